create or replace function app_private.apply_viewer_count(stream_id uuid, viewer_count integer) returns text
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_cfg app_private.playback_settings;
  v_state app_private.stream_playback;
  v_stream app_public.streams;
begin
  if viewer_count is null then
    return null;
  end if;
  select * into v_cfg from app_private.playback_settings;
  select * into v_stream from app_public.streams s where s.id = apply_viewer_count.stream_id;
  if v_stream.id is null or v_stream.status <> 'live' then
    return null;
  end if;
  if viewer_count >= v_cfg.viral_enter_viewers then
    insert into app_private.stream_playback (stream_id) values (v_stream.id) on conflict do nothing;
  end if;
  select * into v_state from app_private.stream_playback p where p.stream_id = v_stream.id;
  if v_state.stream_id is null or v_state.pinned then
    return null;
  end if;
  if viewer_count >= v_cfg.viral_enter_viewers
     and (app_public.streams_hls_url(v_stream) is not null or app_private.stream_needs_egress(v_stream.id, v_state.hls_provider))
     and (v_state.mode = 'stage' and v_state.pending is null or v_state.pending = 'to_stage') then
    return app_private.request_transition(v_stream.id, 'hls', 'threshold', null);
  end if;
  if viewer_count < v_cfg.viral_exit_viewers
     and (v_state.mode = 'hls' and v_state.pending is null or v_state.mode = 'stage' and v_state.pending = 'to_hls') then
    return app_private.request_transition(v_stream.id, 'stage', 'threshold', null);
  end if;
  return null;
end;
$$;
revoke all on function app_private.apply_viewer_count(stream_id uuid, viewer_count integer) from public, anon, authenticated;
comment on function app_private.apply_viewer_count(stream_id uuid, viewer_count integer) is
  'Viral-mode thresholds for one stream and its current viewer count; returns the transition it requested.';
