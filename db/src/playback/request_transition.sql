create or replace function app_private.request_transition(stream_id uuid, target text, reason text, requested_by uuid) returns text
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_state app_private.stream_playback;
begin
  select * into v_state from app_private.stream_playback p where p.stream_id = request_transition.stream_id for update;
  if v_state.stream_id is null then
    return null;
  end if;
  if target = 'hls' then
    if v_state.mode = 'hls' then
      -- Already there: a pending switch back is cancelled.
      if v_state.pending = 'to_stage' then
        update app_private.stream_playback p set pending = null, pending_reason = null, check_due_at = null
         where p.stream_id = v_state.stream_id;
      end if;
      return null;
    end if;
    if v_state.pending = 'to_hls' then
      return 'to_hls';
    end if;
    update app_private.stream_playback p
       set pending = 'to_hls', pending_reason = reason, requested_by = request_transition.requested_by,
           requested_at = now(), check_due_at = now(), attempts = 0
     where p.stream_id = v_state.stream_id;
    return 'to_hls';
  elsif target = 'stage' then
    if v_state.mode = 'stage' then
      if v_state.pending = 'to_hls' then
        update app_private.stream_playback p set pending = null, pending_reason = null, check_due_at = null
         where p.stream_id = v_state.stream_id;
      end if;
      return null;
    end if;
    if v_state.pending = 'to_stage' then
      return 'to_stage';
    end if;
    update app_private.stream_playback p
       set pending = 'to_stage', pending_reason = reason, requested_by = request_transition.requested_by,
           requested_at = now(), check_due_at = now(), attempts = 0
     where p.stream_id = v_state.stream_id;
    return 'to_stage';
  end if;
  raise exception 'transition target must be hls or stage (got "%")', target using errcode = 'BADIN';
end;
$$;
revoke all on function app_private.request_transition(stream_id uuid, target text, reason text, requested_by uuid) from public, anon, authenticated;
comment on function app_private.request_transition(stream_id uuid, target text, reason text, requested_by uuid) is
  'Sets (or cancels) the pending transition of a stream; the worker checks and switches.';
