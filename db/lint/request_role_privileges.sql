-- Ours: request roles create nothing: no CREATE on any schema, no TEMP on the app database (a temp
-- object can shadow a type name; see security_definer_search_path). CREATE DATABASE ... TEMPLATE does
-- not copy database privileges: on a clone, `set lint.database` names the database that was migrated.
select 'request_role_privileges' as rule, 'ERROR' as level, 'database ' || d.name as object, r.rolname || ' has TEMP' as detail
  from (select coalesce(nullif(current_setting('lint.database', true), ''), current_database()) as name) d
  cross join (values ('anon'), ('authenticated'), ('authenticator')) r(rolname)
 where has_database_privilege(r.rolname, d.name, 'temporary')
union all
select 'request_role_privileges', 'ERROR', 'schema ' || n.nspname, r.rolname || ' has CREATE'
  from pg_namespace n
  cross join (values ('anon'), ('authenticated'), ('authenticator')) r(rolname)
 where n.nspname !~ '^pg_' and n.nspname <> 'information_schema'
   -- tests and tap exist only in test databases (db/test/helpers/tests.sql, the pgTAP recipe)
   and n.nspname not in ('tests', 'tap')
   and has_schema_privilege(r.rolname, n.oid, 'create');
