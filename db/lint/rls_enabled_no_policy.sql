-- splinter 0008 rls_enabled_no_policy: RLS on, no policy: nobody but the owner sees a row. Fine for
-- tables only functions touch, but then the table should not be granted to request roles.
select 'rls_enabled_no_policy' as rule,
       case when has_table_privilege('anon', c.oid, 'select, insert, update, delete')
              or has_table_privilege('authenticated', c.oid, 'select, insert, update, delete') then 'WARN' else 'INFO' end as level,
       c.oid::regclass::text as object, 'row level security enabled but no policy' as detail
  from pg_class c
 where c.relkind in ('r', 'p') and c.relrowsecurity
   and c.relnamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace)
   and not exists (select 1 from pg_policy pol where pol.polrelid = c.oid);
