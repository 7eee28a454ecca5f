create or replace function app_public.stream_categories() returns text[]
  language sql immutable parallel safe
  set search_path = pg_catalog, pg_temp
as $$
  select array['just_chatting', 'music', 'gaming', 'irl', 'talk_show', 'creative', 'sports']
$$;
revoke all on function app_public.stream_categories() from public, anon, authenticated;
grant execute on function app_public.stream_categories() to anon, authenticated;
comment on function app_public.stream_categories() is
  'The categories a stream may have (streams.category), in display order.';
