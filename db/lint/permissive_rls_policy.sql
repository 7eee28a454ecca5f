-- splinter 0024 permissive_rls_policy: a policy that is always true for its command (USING (true))
-- opens every row to its roles. Deliberately public data is a warning that must be listed in
-- docs/security.md; an always-true write policy is an error.
select 'permissive_rls_policy' as rule,
       case when pol.polcmd = 'r' then 'WARN' else 'ERROR' end as level,
       pol.polrelid::regclass::text || ' policy ' || pol.polname as object,
       'always true for ' || case pol.polcmd when 'r' then 'SELECT' when 'a' then 'INSERT' when 'w' then 'UPDATE' when 'd' then 'DELETE' else 'ALL' end
       || ' to ' || coalesce((select string_agg(case when o = 0 then 'public' else o::regrole::text end, ', ') from unnest(pol.polroles) o), '?') as detail
  from pg_policy pol
  join pg_class c on c.oid = pol.polrelid
 where c.relnamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace)
   and pol.polpermissive
   and coalesce(pg_get_expr(pol.polqual, pol.polrelid), 'true') in ('true', '(1 = 1)')
   and (pol.polcmd in ('r', 'd') or coalesce(pg_get_expr(pol.polwithcheck, pol.polrelid), pg_get_expr(pol.polqual, pol.polrelid), 'true') in ('true', '(1 = 1)'));
