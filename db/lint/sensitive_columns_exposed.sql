-- splinter 0023 sensitive_columns_exposed: a column whose name says credential, secret or contact
-- detail, readable by a request role.
select 'sensitive_columns_exposed' as rule, 'ERROR' as level, c.oid::regclass::text || '.' || a.attname as object,
       'readable by ' || string_agg(r.rolname, ', ' order by r.rolname) as detail
  from pg_class c
  join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
  cross join (values ('anon'), ('authenticated')) r(rolname)
 where c.relkind in ('r', 'p', 'v', 'm', 'f')
   and c.relnamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace)
   and a.attname ~* '(passw|secret|token|api_?key|hash|salt|e_?mail|phone|otp|ssn|iban|card|private_key)'
   and has_column_privilege(r.rolname, c.oid, a.attnum, 'select')
 group by c.oid, a.attname;
