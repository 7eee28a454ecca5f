-- splinter 0013 rls_disabled_in_public: a table in the exposed schema without row level security.
select 'rls_disabled_in_public' as rule, 'ERROR' as level, c.oid::regclass::text as object,
       'table in app_public without ROW LEVEL SECURITY' as detail
  from pg_class c
 where c.relkind in ('r', 'p') and c.relnamespace = 'app_public'::regnamespace and not c.relrowsecurity;
