create or replace function app_private.relay_stream_events(max_events int default 10000, max_payload int default 7900)
  returns table (notifies int, events int)
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
declare
  b record;
  v_notifies int := 0;
  v_events int := 0;
begin
  -- Only one relay at a time, across all processes: the others skip this tick.
  if not pg_try_advisory_xact_lock(hashtextextended('trollcity.stream_events.relay', 0)) then
    return query select 0, 0;
    return;
  end if;
  perform set_config('synchronous_commit', 'off', true);
  perform app_private.publish_viewer_counts();
  for b in select * from app_private.next_stream_event_batches(max_events, max_payload) loop
    perform pg_notify('stream_events:' || b.stream_id, b.payload);
    v_notifies := v_notifies + 1;
    v_events := v_events + b.events;
  end loop;
  perform app_private.prune_stream_events();
  return query select v_notifies, v_events;
end;
$$;
revoke all on function app_private.relay_stream_events(max_events integer, max_payload integer) from public, anon, authenticated;
comment on function app_private.relay_stream_events(max_events integer, max_payload integer) is
  'Relay tick (every 50-100 ms from each server process; one runs at a time under an advisory lock, the others skip): publishes viewer counts, then sends one NOTIFY per stream batch on channel stream_events:<stream id>. Returns (notifies, events).';
