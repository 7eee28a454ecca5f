--! Previous: sha1:05e58a92de904a23d798de82d976b1b4f4b0a692
--! Hash: sha1:d1d6013bfe0811f7a5b971d5bd15d3f1dc3b4588
--! Message: Crash safety: relay state re-created after crash recovery, delivery ids never repeat

--! split: 200-crash-safety.sql
-- Crash safety (issue 11): crash recovery empties every UNLOGGED table, so no code may depend on a row
-- that only a migration inserts. relay_state (UNLOGGED, one row) is now re-created by the two functions
-- that use it; before, after a crash they found no row and quietly did nothing: viewer counts were
-- never published again and the outbox was never pruned. restore_relay_state also moves the delivery
-- sequence ahead then (the relay commits asynchronously). docs/operations.md lists every UNLOGGED
-- table, what a crash loses and how it recovers.
--! Included realtime/restore_relay_state.sql
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
--! EndIncluded realtime/restore_relay_state.sql
--! Included realtime/publish_viewer_counts.sql
create or replace function app_private.publish_viewer_counts() returns int
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_n int;
begin
  update app_private.relay_state set counts_at = now() where counts_at <= now() - interval '1 second';
  if not found then
    -- relay_state is UNLOGGED: crash recovery empties it, and then its row comes back here. (Not one
    -- upsert: ON CONFLICT DO UPDATE locks the row, and so takes a transaction id, on every relay tick.)
    if not app_private.restore_relay_state() then
      return 0;
    end if;
    update app_private.relay_state set counts_at = now();
  end if;
  delete from app_private.presence_counts p where p.updated_at < now() - interval '30 seconds';
  with live as (
    select p.stream_id, sum(p.viewers)::int as viewers
      from app_private.presence_counts p
     where p.updated_at > now() - interval '15 seconds'
     group by p.stream_id
  ), changed as (
    select coalesce(l.stream_id, v.stream_id) as stream_id, coalesce(l.viewers, 0) as viewers
      from live l
      full join app_private.stream_viewer_counts v on v.stream_id = l.stream_id
     where coalesce(l.viewers, 0) is distinct from v.viewers
  ), saved as (
    insert into app_private.stream_viewer_counts as v (stream_id, viewers, published_at)
    select c.stream_id, c.viewers, now() from changed c
    on conflict (stream_id) do update set viewers = excluded.viewers, published_at = excluded.published_at
    returning v.stream_id, v.viewers
  )
  insert into app_private.stream_events (stream_id, kind, payload)
  select s.stream_id, 'viewer_count', jsonb_build_object('viewers', s.viewers) from saved s;
  get diagnostics v_n = row_count;
  delete from app_private.stream_viewer_counts v where v.viewers = 0 and v.published_at < now() - interval '1 minute';
  return v_n;
end;
$$;
revoke all on function app_private.publish_viewer_counts() from public, anon, authenticated;
comment on function app_private.publish_viewer_counts() is
  'Turns fresh presence counts into viewer_count events for streams whose count changed; at most once per second.';
--! EndIncluded realtime/publish_viewer_counts.sql
--! Included realtime/prune_stream_events.sql
create or replace function app_private.prune_stream_events() returns int
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_secs int;
  v_n int;
begin
  update app_private.relay_state set pruned_at = now() where pruned_at <= now() - interval '5 seconds';
  if not found then
    -- relay_state is UNLOGGED: crash recovery empties it, and then its row comes back here. (Not one
    -- upsert: ON CONFLICT DO UPDATE locks the row, and so takes a transaction id, on every relay tick.)
    if not app_private.restore_relay_state() then
      return 0;
    end if;
    update app_private.relay_state set pruned_at = now();
  end if;
  select coalesce(max(value)::int, 120) into v_secs from app_private.settings where key = 'stream_events_retention_seconds';
  delete from app_private.stream_events e where e.created_at < now() - make_interval(secs => v_secs);
  get diagnostics v_n = row_count;
  return v_n;
end;
$$;
revoke all on function app_private.prune_stream_events() from public, anon, authenticated;
comment on function app_private.prune_stream_events() is
  'Deletes outbox events older than the stream_events_retention_seconds setting (default 120; the catch-up window); at most every 5 s.';
--! EndIncluded realtime/prune_stream_events.sql
comment on table app_private.relay_state is
  'When the relay last published viewer counts and pruned the outbox (UNLOGGED, one row: emptied by crash recovery and re-created by publish_viewer_counts and prune_stream_events themselves).';
