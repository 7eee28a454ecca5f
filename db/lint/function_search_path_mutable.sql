-- splinter 0011 function_search_path_mutable: a function without a search_path setting resolves names
-- with the caller's path. Ours qualify every name anyway; three run without a SET clause on purpose
-- (inlining, per-call cost: docs/security.md), so this is a warning that must be listed there.
select 'function_search_path_mutable' as rule, 'WARN' as level, p.oid::regprocedure::text as object,
       'no search_path setting (language ' || l.lanname || ')' as detail
  from pg_proc p
  join pg_language l on l.oid = p.prolang
 where p.pronamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace)
   and not exists (select 1 from unnest(p.proconfig) cfg where cfg like 'search_path=%');
