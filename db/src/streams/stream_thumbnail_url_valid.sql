create or replace function app_hidden.stream_thumbnail_url_valid(url text) returns boolean
  language sql immutable parallel safe
  set search_path = pg_catalog, pg_temp
as $$
  select char_length($1) <= 2000 and $1 ~ '^(https://[^/\s]+|/(?!/))[^\s]*$'
$$;
revoke all on function app_hidden.stream_thumbnail_url_valid(url text) from public, anon, authenticated;
grant execute on function app_hidden.stream_thumbnail_url_valid(url text) to anon, authenticated;
comment on function app_hidden.stream_thumbnail_url_valid(url text) is
  'Whether a thumbnail URL is acceptable (the streams_thumbnail_url_check constraint): https:// or a path on this site, at most 2000 characters, no whitespace.';
