create or replace function app_private.hls_check_target(stream_id uuid) returns table (pending text, url text)
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select p.pending, app_public.streams_hls_url(s)
    from app_private.stream_playback p
    join app_public.streams s on s.id = p.stream_id
   where p.stream_id = hls_check_target.stream_id and p.pending is not null
$$;
revoke all on function app_private.hls_check_target(stream_id uuid) from public, anon, authenticated;
comment on function app_private.hls_check_target(stream_id uuid) is
  'What the streams__check_hls job must check for the stream (no row: nothing pending).';
