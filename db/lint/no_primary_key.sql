-- splinter 0004 no_primary_key: a table without a primary key cannot be addressed row by row
-- (PostGraphile generates no node/update for it, logical replication cannot update or delete it).
select 'no_primary_key' as rule, 'WARN' as level, c.oid::regclass::text as object, 'table without a primary key' as detail
  from pg_class c
 where c.relkind in ('r', 'p')
   and c.relnamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace)
   and not exists (select 1 from pg_constraint con where con.conrelid = c.oid and con.contype = 'p');
