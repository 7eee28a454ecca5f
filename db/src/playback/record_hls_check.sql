create or replace function app_private.record_hls_check(stream_id uuid, url text, ok boolean, error text, detail jsonb default '{}')
returns text
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_state app_private.stream_playback;
  v_stream app_public.streams;
  v_cfg app_private.playback_settings;
  v_url text;
  v_delay integer;
begin
  select * into v_state from app_private.stream_playback p where p.stream_id = record_hls_check.stream_id for update;
  select * into v_stream from app_public.streams s where s.id = record_hls_check.stream_id;
  if v_state.stream_id is null or v_state.pending is null then
    return 'stale';
  end if;
  select * into v_cfg from app_private.playback_settings;
  v_url := app_public.streams_hls_url(v_stream);
  insert into app_private.hls_checks (stream_id, purpose, url, ok, error, detail)
    values (v_state.stream_id, v_state.pending, url, ok, error, coalesce(detail, '{}'));

  if v_state.pending = 'to_stage' then
    -- The stage is the broadcaster's own room: switching back needs no HLS check.
    update app_private.stream_playback p
       set mode = 'stage', mode_reason = v_state.pending_reason, switched_at = now(),
           pending = null, pending_reason = null, check_due_at = null, attempts = 0
     where p.stream_id = v_state.stream_id;
    perform app_private.publish_stream_event(v_state.stream_id, 'stream_state', jsonb_build_object(
      'type', 'playback', 'mode', 'stage', 'provider', 'livekit', 'latency_mode', 'low',
      'hls_url', null, 'reason', v_state.pending_reason, 'switched_at', now()));
    return 'switched_to_stage';
  end if;

  if url is distinct from v_url then
    -- The configuration changed while the job ran: check the new URL right away.
    update app_private.stream_playback p set check_due_at = now() where p.stream_id = v_state.stream_id;
    return 'stale';
  end if;

  if not ok then
    v_delay := least(v_cfg.retry_max_seconds, v_cfg.retry_base_seconds * (2 ^ least(v_state.attempts, 16))::integer);
    update app_private.stream_playback p
       set attempts = v_state.attempts + 1, last_check_at = now(), last_check_ok = false, last_check_url = url,
           last_error = left(coalesce(record_hls_check.error, 'check failed'), 500),
           check_due_at = now() + make_interval(secs => v_delay)
     where p.stream_id = v_state.stream_id;
    return 'retry';
  end if;

  if v_state.pending = 'verify' then
    update app_private.stream_playback p
       set last_check_at = now(), last_check_ok = true, last_check_url = url, last_error = null,
           pending = null, pending_reason = null, check_due_at = null, attempts = 0
     where p.stream_id = v_state.stream_id;
    return 'verified';
  end if;

  -- pending = 'to_hls' and the URL works: switch and tell every viewer.
  update app_private.stream_playback p
     set mode = 'hls', mode_reason = v_state.pending_reason, switched_at = now(),
         last_check_at = now(), last_check_ok = true, last_check_url = url, last_error = null,
         pending = null, pending_reason = null, check_due_at = null, attempts = 0
   where p.stream_id = v_state.stream_id;
  perform app_private.publish_stream_event(v_state.stream_id, 'stream_state', jsonb_build_object(
    'type', 'playback', 'mode', 'hls', 'provider', v_state.hls_provider, 'latency_mode', 'standard',
    'hls_url', url, 'reason', v_state.pending_reason, 'switched_at', now()));
  return 'switched_to_hls';
end;
$$;
revoke all on function app_private.record_hls_check(stream_id uuid, url text, ok boolean, error text, detail jsonb) from public, anon, authenticated;
comment on function app_private.record_hls_check(stream_id uuid, url text, ok boolean, error text, detail jsonb) is
  'Result of a streams__check_hls job: switches (and publishes a stream_state event) only on a passing check of the current URL; a failure keeps the current path, records why and schedules a retry with backoff.';
