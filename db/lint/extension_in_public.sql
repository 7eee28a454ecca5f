-- splinter 0014 extension_in_public: extensions installed in schema public. Our API exposes only
-- app_public and request roles cannot create in public, so this is a warning to be listed.
select 'extension_in_public' as rule, 'WARN' as level, 'extension ' || e.extname as object, 'installed in schema public' as detail
  from pg_extension e
 where e.extnamespace = 'public'::regnamespace;
