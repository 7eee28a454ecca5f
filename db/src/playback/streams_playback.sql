create or replace function app_public.streams_playback(s app_public.streams) returns app_public.playback_state
  language sql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
  select s.id,
         case when coalesce(p.mode, 'stage') = 'hls' then p.hls_provider else 'livekit' end,
         coalesce(p.mode, 'stage'),
         p.hls_provider,
         app_public.streams_hls_url(s),
         coalesce(p.last_check_ok and p.last_check_url = app_public.streams_hls_url(s), false),
         case when coalesce(p.mode, 'stage') = 'hls' then 'standard' else 'low' end,
         p.pending,
         p.switched_at,
         app_private.playback_viewer_count(s)
    from (select 1) one
    left join app_private.stream_playback p on p.stream_id = s.id
$$;
revoke all on function app_public.streams_playback(s app_public.streams) from public, anon, authenticated;
grant execute on function app_public.streams_playback(s app_public.streams) to anon, authenticated;
comment on function app_public.streams_playback(s app_public.streams) is
  'Playback state of the stream: current path and provider, HLS URL, latency mode, pending switch, viewer count.';
