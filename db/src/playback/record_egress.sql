create or replace function app_private.record_egress(
  id uuid,
  state text,
  egress_id text default null,
  error text default null,
  mux_live_stream_id text default null,
  mux_playback_id text default null
) returns text
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_row app_private.stream_egresses;
  v_live boolean;
  v_wanted boolean;
  v_delay integer;
  -- Failures are retried with backoff (5 s doubling to 2 min), at most this many in a row.
  c_max_failures constant integer := 8;
  -- An active egress is looked at this often.
  c_watch_seconds constant integer := 5;
begin
  select * into v_row from app_private.stream_egresses e where e.id = record_egress.id for update;
  if v_row.id is null then
    return 'gone';
  end if;
  select s.status = 'live' into v_live from app_public.streams s where s.id = v_row.stream_id;
  -- Still wanted: the stream is live and on (or on its way to) HLS.
  select coalesce(v_live, false) and (p.mode = 'hls' or p.pending in ('to_hls', 'verify')) into v_wanted
    from app_private.stream_playback p where p.stream_id = v_row.stream_id;
  v_wanted := coalesce(v_wanted, false);

  if record_egress.mux_live_stream_id is not null then
    update app_private.stream_egresses e
       set mux_live_stream_id = record_egress.mux_live_stream_id, mux_playback_id = record_egress.mux_playback_id
     where e.id = v_row.id;
    if record_egress.mux_playback_id is not null then
      -- The stream's HLS URL is Mux's playback URL from now on (checked before anyone is switched).
      update app_private.stream_playback p
         set hls_provider = 'mux', mux_playback_id = record_egress.mux_playback_id, origin_path = null
       where p.stream_id = v_row.stream_id;
    end if;
  end if;

  if record_egress.state = 'starting' then
    if v_row.state in ('stopping', 'stopped') or not v_wanted then
      -- Asked to stop while it was being started: stop what was just started.
      update app_private.stream_egresses e
         set egress_id = record_egress.egress_id, state = 'stopping', ended_at = null,
             stop_reason = coalesce(e.stop_reason, 'no longer wanted')
       where e.id = v_row.id;
      return 'stop';
    end if;
    update app_private.stream_egresses e
       set egress_id = record_egress.egress_id, state = 'starting', started_at = now(), attempts = e.attempts + 1,
           next_attempt_at = null
     where e.id = v_row.id;
    return 'starting';
  elsif record_egress.state = 'active' then
    if v_row.state not in ('starting', 'active') then
      return v_row.state;
    end if;
    if v_row.state = 'starting' then
      update app_private.stream_egresses e
         set state = 'active', active_at = now(), last_error = null, consecutive_failures = 0
       where e.id = v_row.id;
      -- The health check was waiting for this: run it now.
      update app_private.stream_playback p set check_due_at = now()
       where p.stream_id = v_row.stream_id and p.pending = 'to_hls';
    end if;
    -- Watch it while it runs: an egress that dies later is restarted like a failed start.
    perform app_private.add_job('stream_egresses__run', json_build_object('id', v_row.id), now() + make_interval(secs => c_watch_seconds),
      'stream_egresses__run:' || v_row.id, 'egress:' || v_row.stream_id);
    return 'active';
  elsif record_egress.state = 'stopped' then
    update app_private.stream_egresses e set state = 'stopped', ended_at = now(), next_attempt_at = null where e.id = v_row.id;
    return 'stopped';
  elsif record_egress.state = 'failed' then
    if v_row.state in ('stopping', 'stopped') then
      update app_private.stream_egresses e set state = 'stopped', ended_at = now(), last_error = left(record_egress.error, 500)
       where e.id = v_row.id;
      return 'stopped';
    end if;
    if v_wanted and v_row.consecutive_failures + 1 < c_max_failures then
      v_delay := least(120, 5 * (2 ^ v_row.consecutive_failures)::integer);
      update app_private.stream_egresses e
         set state = 'retrying', failures = e.failures + 1, consecutive_failures = e.consecutive_failures + 1, last_error = left(coalesce(record_egress.error, 'egress failed'), 500),
             last_failed_at = now(), egress_id = null, next_attempt_at = now() + make_interval(secs => v_delay)
       where e.id = v_row.id;
      perform app_private.add_job('stream_egresses__run', json_build_object('id', v_row.id), now() + make_interval(secs => v_delay),
        'stream_egresses__run:' || v_row.id, 'egress:' || v_row.stream_id);
      return 'retrying';
    end if;
    update app_private.stream_egresses e
       set state = 'failed', failures = e.failures + 1, consecutive_failures = e.consecutive_failures + 1, last_error = left(coalesce(record_egress.error, 'egress failed'), 500),
           last_failed_at = now(), ended_at = now(), next_attempt_at = null
     where e.id = v_row.id;
    return 'failed';
  end if;
  raise exception 'egress state must be starting, active, stopped or failed (got "%")', state using errcode = 'BADIN';
end;
$$;
revoke all on function app_private.record_egress(id uuid, state text, egress_id text, error text, mux_live_stream_id text, mux_playback_id text) from public, anon, authenticated;
comment on function app_private.record_egress(id uuid, state text, egress_id text, error text, mux_live_stream_id text, mux_playback_id text) is
  'What the worker learnt about an egress (started, active, stopped, failed). Decides what follows: a failure (of a start, or of a running egress) is retried with backoff (5 s doubling to 2 min, 8 in a row at most), an active egress lets the waiting health check run and is watched every 5 s, a start that is no longer wanted is stopped.';
