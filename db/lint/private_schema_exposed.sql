-- splinter 0002 auth_users_exposed, for our private schema: no request role may reach app_private
-- directly (schema usage, or any privilege on a relation, sequence or routine in it), and no view a
-- request role can read may select from app_private unless it is security_invoker.
select 'private_schema_exposed' as rule, 'ERROR' as level, 'schema app_private' as object, r.rolname || ' has USAGE' as detail
  from (values ('anon'), ('authenticated'), ('authenticator'), ('public')) r(rolname)
 where has_schema_privilege(r.rolname, 'app_private', 'usage')
union all
select 'private_schema_exposed', 'ERROR', c.oid::regclass::text, r.rolname || ' has a privilege on it'
  from pg_class c
  cross join (values ('anon'), ('authenticated'), ('authenticator')) r(rolname)
 where c.relnamespace = 'app_private'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
   and (case when c.relkind = 'S' then has_sequence_privilege(r.rolname, c.oid, 'usage, select, update')
             else has_table_privilege(r.rolname, c.oid, 'select, insert, update, delete, truncate, references, trigger') end)
union all
select 'private_schema_exposed', 'ERROR', p.oid::regprocedure::text, r.rolname || ' may execute it'
  from pg_proc p
  cross join (values ('anon'), ('authenticated'), ('authenticator')) r(rolname)
 where p.pronamespace = 'app_private'::regnamespace and has_function_privilege(r.rolname, p.oid, 'execute')
union all
select distinct 'private_schema_exposed', 'ERROR', v.oid::regclass::text, 'readable view over ' || d.refobjid::regclass::text || ' without security_invoker'
  from pg_class v
  join pg_rewrite rw on rw.ev_class = v.oid
  join pg_depend d on d.classid = 'pg_rewrite'::regclass and d.objid = rw.oid and d.refclassid = 'pg_class'::regclass
  join pg_class t on t.oid = d.refobjid and t.relnamespace = 'app_private'::regnamespace
 where v.relkind in ('v', 'm') and v.relnamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace)
   and not coalesce('security_invoker=true' = any (v.reloptions), false)
   and (has_table_privilege('anon', v.oid, 'select') or has_table_privilege('authenticated', v.oid, 'select'));
