create or replace function app_public.streams_hls_url(s app_public.streams) returns text
  language sql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
  select case p.hls_provider
      when 'mux' then cfg.mux_base_url || '/' || p.mux_playback_id || '.m3u8'
      when 'cdn' then cfg.cdn_base_url || coalesce(p.origin_path, replace(cfg.origin_path_template, '{stream_id}', s.id::text))
      when 'origin' then cfg.origin_base_url || coalesce(p.origin_path, replace(cfg.origin_path_template, '{stream_id}', s.id::text))
    end
    from app_private.stream_playback p
    cross join app_private.playback_settings cfg
   where p.stream_id = s.id
$$;
revoke all on function app_public.streams_hls_url(s app_public.streams) from public, anon, authenticated;
grant execute on function app_public.streams_hls_url(s app_public.streams) to anon, authenticated;
comment on function app_public.streams_hls_url(s app_public.streams) is
  'The stream''s HLS playlist URL derived from configuration (Mux playback id, CDN pull zone + origin path, or self-hosted origin); null when the stream has no HLS source or it is not configured.';
