-- splinter 0006 multiple_permissive_policies: several permissive policies for one role and command are
-- OR-ed, each evaluated for every row; one policy with the combined condition is cheaper and easier to
-- review.
with pol as (
  select pol.polrelid, pol.polname, r.rolname, cmd
    from pg_policy pol
    cross join lateral unnest(case pol.polcmd when '*' then array['select', 'insert', 'update', 'delete']
                                              when 'r' then array['select'] when 'a' then array['insert']
                                              when 'w' then array['update'] when 'd' then array['delete'] end) cmd
    cross join lateral (select rolname from pg_roles where oid = any (pol.polroles)
                        union select x from unnest(array['anon', 'authenticated']) x where 0 = any (pol.polroles)) r
   where pol.polpermissive
     and exists (select 1 from pg_class c where c.oid = pol.polrelid
                  and c.relnamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace))
)
select 'multiple_permissive_policies' as rule, 'WARN' as level, polrelid::regclass::text as object,
       rolname || ' ' || cmd || ': ' || string_agg(polname, ', ' order by polname) as detail
  from pol
 group by polrelid, rolname, cmd
having count(*) > 1;
