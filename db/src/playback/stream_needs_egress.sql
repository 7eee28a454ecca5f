create or replace function app_private.stream_needs_egress(stream_id uuid, hls_provider text) returns boolean
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  -- A stream without an HLS source of its own gets one from a LiveKit egress (when one is configured);
  -- so does a stream whose source an egress set before.
  select cfg.egress_target is not null
         and (stream_needs_egress.hls_provider is null
              or exists (select 1 from app_private.stream_egresses e where e.stream_id = stream_needs_egress.stream_id))
    from app_private.playback_settings cfg
$$;
revoke all on function app_private.stream_needs_egress(stream_id uuid, hls_provider text) from public, anon, authenticated;
comment on function app_private.stream_needs_egress(stream_id uuid, hls_provider text) is
  'Whether the stream''s HLS comes from a LiveKit egress started by the worker (rather than a source configured for the stream).';
