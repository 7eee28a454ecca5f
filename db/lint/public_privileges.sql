-- Ours: nothing in the app schemas is executable or usable by PUBLIC (every role, including ones
-- created later): functions (the PostgreSQL default is EXECUTE for PUBLIC), tables, views, sequences.
select 'public_privileges' as rule, 'ERROR' as level, p.oid::regprocedure::text as object, 'PUBLIC may execute it' as detail
  from pg_proc p
 where p.pronamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace)
   and exists (select 1 from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a where a.grantee = 0)
union all
select 'public_privileges', 'ERROR', c.oid::regclass::text, 'PUBLIC has ' || string_agg(distinct a.privilege_type, ', ')
  from pg_class c
  cross join lateral aclexplode(coalesce(c.relacl, acldefault(case when c.relkind = 'S' then 's'::"char" else 'r'::"char" end, c.relowner))) a
 where c.relnamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace)
   and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f') and a.grantee = 0
 group by c.oid
union all
select 'public_privileges', 'ERROR', 'schema ' || n.nspname, 'PUBLIC has ' || string_agg(a.privilege_type, ', ')
  from pg_namespace n
  cross join lateral aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
 where n.nspname in ('app_public', 'app_hidden', 'app_private') and a.grantee = 0
 group by n.nspname;
