-- splinter 0001 unindexed_foreign_keys, and ours (ERROR): every foreign key has an index whose leading
-- columns are the key's columns (deletes and updates of the referenced row otherwise scan the table).
-- A partial index counts when its predicate only asks for the key columns to be NOT NULL (the check
-- for a referenced row, `fk = $1`, implies it).
select 'unindexed_foreign_keys' as rule, 'ERROR' as level, con.conrelid::regclass::text as object,
       'foreign key ' || con.conname || ' (' ||
       (select string_agg(a.attname, ', ' order by k.ord) from unnest(con.conkey) with ordinality k(attnum, ord)
          join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum) || ') has no index' as detail
  from pg_constraint con
 where con.contype = 'f'
   and con.connamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace)
   and not exists (
     select 1 from pg_index i
      where i.indrelid = con.conrelid
        and (i.indpred is null
             or pg_get_expr(i.indpred, i.indrelid) ~ '^\(?\w+ IS NOT NULL\)?$'
                and substring(pg_get_expr(i.indpred, i.indrelid) from '^\(?(\w+) IS NOT NULL') in
                    (select a.attname from pg_attribute a where a.attrelid = con.conrelid and a.attnum = any (con.conkey)))
        and (i.indkey::int2[])[0:array_length(con.conkey, 1) - 1] operator(pg_catalog.@>) con.conkey
        and (i.indkey::int2[])[0:array_length(con.conkey, 1) - 1] operator(pg_catalog.<@) con.conkey);
