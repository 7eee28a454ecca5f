-- splinter 0016 materialized_view_in_api / 0017 foreign_table_in_api: neither can have RLS, so neither
-- belongs in the exposed schema.
select case c.relkind when 'm' then 'materialized_view_in_api' else 'foreign_table_in_api' end as rule, 'ERROR' as level,
       c.oid::regclass::text as object,
       case c.relkind when 'm' then 'materialized view' else 'foreign table' end || ' in app_public (no RLS possible)' as detail
  from pg_class c
 where c.relkind in ('m', 'f') and c.relnamespace = 'app_public'::regnamespace;
