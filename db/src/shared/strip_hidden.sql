create or replace function app_hidden.strip_hidden(value text) returns text
  language sql immutable parallel safe
  set search_path = pg_catalog, pg_temp
as $$
  select nullif(btrim(regexp_replace(regexp_replace(normalize(value, nfc), '[\t\n\r\u0085\u2028\u2029]+', ' ', 'g'), app_hidden.hidden_chars(), '', 'g'),
    E' \t\n\r\u00A0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A\u202F\u205F\u3000'), '')
$$;
revoke all on function app_hidden.strip_hidden(value text) from public, anon, authenticated;
comment on function app_hidden.strip_hidden(value text) is
  'A line with every character of app_hidden.hidden_chars() removed, NFC, trimmed (null when nothing is left). For text that must not be refused (telemetry) and for repairing old rows.';
