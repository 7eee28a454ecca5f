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
