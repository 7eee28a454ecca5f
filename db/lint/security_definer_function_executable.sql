-- splinter 0028/0029 anon_/authenticated_security_definer_function_executable: every SECURITY DEFINER
-- function a request role may call is a door past RLS, and must check its caller itself. For anon
-- each one is a warning listed (with what it checks) in docs/security.md; for authenticated it is
-- the API itself (INFO).
select 'security_definer_function_executable' as rule, case r.rolname when 'anon' then 'WARN' else 'INFO' end as level,
       p.oid::regprocedure::text as object, 'SECURITY DEFINER, executable by ' || r.rolname as detail
  from pg_proc p
  cross join (values ('anon'), ('authenticated')) r(rolname)
 where p.prosecdef
   and p.pronamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace)
   and has_function_privilege(r.rolname, p.oid, 'execute');
