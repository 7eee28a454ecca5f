create or replace function app_hidden.is_clean_line(value text) returns boolean
  language sql immutable parallel safe
  set search_path = pg_catalog, pg_temp
as $$
  select value is null or (value is nfc normalized and value !~ app_hidden.hidden_chars())
$$;
revoke all on function app_hidden.is_clean_line(value text) from public, anon, authenticated;
grant execute on function app_hidden.is_clean_line(value text) to anon, authenticated;
comment on function app_hidden.is_clean_line(value text) is
  'True when a single line of user text is NFC and holds none of app_hidden.hidden_chars() (null is clean). The CHECK constraint of every single-line text column.';
