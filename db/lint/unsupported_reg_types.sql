-- splinter 0018 unsupported_reg_types: columns of reg* types that store OIDs pg_upgrade cannot keep.
select 'unsupported_reg_types' as rule, 'WARN' as level, a.attrelid::regclass::text || '.' || a.attname as object,
       'column of type ' || format_type(a.atttypid, a.atttypmod) as detail
  from pg_attribute a
  join pg_class c on c.oid = a.attrelid
 where c.relnamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace)
   and a.attnum > 0 and not a.attisdropped
   and a.atttypid in ('regcollation'::regtype, 'regconfig'::regtype, 'regdictionary'::regtype, 'regnamespace'::regtype,
                      'regoper'::regtype, 'regoperator'::regtype, 'regproc'::regtype, 'regprocedure'::regtype);
