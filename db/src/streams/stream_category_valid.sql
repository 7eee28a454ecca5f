create or replace function app_hidden.stream_category_valid(category text) returns boolean
  language sql immutable parallel safe
  set search_path = pg_catalog, pg_temp
as $$
  select $1 = any (app_public.stream_categories())
$$;
revoke all on function app_hidden.stream_category_valid(category text) from public, anon, authenticated;
grant execute on function app_hidden.stream_category_valid(category text) to anon, authenticated;
comment on function app_hidden.stream_category_valid(category text) is
  'Whether a category is one of stream_categories() (the streams_category_check constraint).';
