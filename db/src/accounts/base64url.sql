create or replace function app_private.base64url(data bytea) returns text
  language sql immutable strict parallel safe
  set search_path = pg_catalog, pg_temp
as $$
  select translate(rtrim(replace(encode(data, 'base64'), E'\n', ''), '='), '+/', '-_')
$$;
revoke all on function app_private.base64url(data bytea) from public, anon, authenticated;
