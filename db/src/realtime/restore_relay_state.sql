create or replace function app_private.restore_relay_state() returns boolean
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
begin
  insert into app_private.relay_state (id) values (true) on conflict (id) do nothing;
  if not found then
    return false;
  end if;
  -- relay_state is UNLOGGED: its row is missing only after crash recovery emptied it (or someone
  -- deleted it). The relay commits asynchronously (synchronous_commit off), so the last delivery
  -- numbers it handed out before the crash may not be durable and the sequence may now be behind ids
  -- clients have seen: jump far ahead, so delivery ids never repeat (a client resuming from an id of
  -- before the crash then gets resumed: false and resets, as it must: the outbox was emptied).
  perform setval('app_private.stream_event_seq', (select s.last_value from app_private.stream_event_seq s) + 1000000);
  return true;
end;
$$;
revoke all on function app_private.restore_relay_state() from public, anon, authenticated;
comment on function app_private.restore_relay_state() is
  'Re-creates the relay_state row when crash recovery emptied it (UNLOGGED) and moves the delivery sequence 1,000,000 ahead (the relay commits asynchronously, so numbers handed out just before a crash may not be durable). Returns whether it did. Called by publish_viewer_counts and prune_stream_events.';
