-- splinter 0009 duplicate_index: two indexes with the same definition cost writes and space twice.
select 'duplicate_index' as rule, 'WARN' as level, i.indrelid::regclass::text as object,
       'identical indexes: ' || string_agg(i.indexrelid::regclass::text, ', ' order by i.indexrelid::regclass::text) as detail
  from pg_index i
  join pg_class c on c.oid = i.indrelid
 where c.relnamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace)
 group by i.indrelid, i.indkey::text, i.indclass::text, i.indcollation::text, i.indoption::text,
          coalesce(pg_get_expr(i.indexprs, i.indrelid), ''), coalesce(pg_get_expr(i.indpred, i.indrelid), ''),
          (select amname from pg_am where oid = (select relam from pg_class where oid = i.indexrelid))
having count(*) > 1;
