-- splinter 0010 security_definer_view: a view that request roles can read runs as its owner (the
-- default), so it bypasses the RLS of the tables it reads. Views must be security_invoker.
select 'security_definer_view' as rule, 'ERROR' as level, c.oid::regclass::text as object,
       'view readable by ' || string_agg(r.rolname, ', ' order by r.rolname) || ' without security_invoker=true' as detail
  from pg_class c
  cross join (values ('anon'), ('authenticated')) r(rolname)
 where c.relkind in ('v', 'm')
   and c.relnamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace)
   and not coalesce('security_invoker=true' = any (c.reloptions) or 'security_invoker=on' = any (c.reloptions), false)
   and has_table_privilege(r.rolname, c.oid, 'select')
 group by c.oid;
