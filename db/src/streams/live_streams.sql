create or replace function app_public.live_streams() returns setof app_public.streams
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select s.* from app_public.streams s where s.status = 'live' order by s.started_at desc
$$;
revoke all on function app_public.live_streams() from public, anon, authenticated;
grant execute on function app_public.live_streams() to anon, authenticated;
comment on function app_public.live_streams() is
  'Streams that are live now, newest first.';
