-- Ours: every SECURITY DEFINER function pins exactly `search_path = pg_catalog, pg_temp` (an empty path
-- still searches pg_temp first for types and relations: a caller's temp domain could run as the owner).
select 'security_definer_search_path' as rule, 'ERROR' as level, p.oid::regprocedure::text as object,
       'SECURITY DEFINER with ' || coalesce(array_to_string(p.proconfig, ', '), 'no settings') as detail
  from pg_proc p
 where p.prosecdef
   and p.pronamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace)
   and not coalesce('search_path=pg_catalog, pg_temp' = any (p.proconfig), false);
