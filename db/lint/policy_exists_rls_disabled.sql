-- splinter 0007 policy_exists_rls_disabled: policies on a table whose RLS is off do nothing.
select 'policy_exists_rls_disabled' as rule, 'ERROR' as level, c.oid::regclass::text as object,
       'policies ' || string_agg(pol.polname, ', ' order by pol.polname) || ' but row level security is disabled' as detail
  from pg_policy pol
  join pg_class c on c.oid = pol.polrelid
 where not c.relrowsecurity
   and c.relnamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace)
 group by c.oid;
