create or replace function app_public.my_live_stream() returns app_public.streams
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select s.* from app_public.streams s
   where s.broadcaster_id = app_public.current_user_id() and s.status = 'live'
   order by s.started_at desc
   limit 1
$$;
revoke all on function app_public.my_live_stream() from public, anon, authenticated;
grant execute on function app_public.my_live_stream() to anon, authenticated;
comment on function app_public.my_live_stream() is
  'The caller''s live stream (null when not live): what the studio shows.';
