-- Ours: no app object is owned by a superuser. A SECURITY DEFINER function runs as its owner and a
-- view reads as its owner: owned by a superuser, any flaw in one is a flaw with every privilege
-- (and superusers bypass RLS even where it is forced). Known failure today: migrations run as the
-- superuser `postgres` and own everything (docs/security.md).
-- One row per kind of object and owner (the list is long while the migrations run as a superuser).
select 'superuser_owned' as rule, 'ERROR' as level, count(*) || ' ' || kind || '(s)' as object,
       'owned by superuser ' || owner || ': ' || string_agg(name, ', ' order by name) as detail
  from (
    select 'schema' as kind, n.nspname::text as name, n.nspowner as ownerid from pg_namespace n
     where n.nspname in ('app_public', 'app_hidden', 'app_private')
    union all
    select case c.relkind when 'S' then 'sequence' when 'v' then 'view' when 'm' then 'materialized view' else 'table' end,
           c.oid::regclass::text, c.relowner from pg_class c
     where c.relnamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace)
       and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
    union all
    select case when p.prosecdef then 'SECURITY DEFINER function' else 'function' end, p.oid::regprocedure::text, p.proowner
      from pg_proc p
     where p.pronamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace)
    union all
    select 'type', t.oid::regtype::text, t.typowner from pg_type t
     where t.typnamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace)
       and t.typtype in ('e', 'd', 'c') and (t.typrelid = 0 or (select relkind from pg_class where oid = t.typrelid) = 'c')
  ) o
  join pg_roles r on r.oid = o.ownerid, lateral (select r.rolname::text as owner) x
 where r.rolsuper
 group by kind, owner;
