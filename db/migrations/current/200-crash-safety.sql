-- Crash safety (issue 11): crash recovery empties every UNLOGGED table, so no code may depend on a row
-- that only a migration inserts. relay_state (UNLOGGED, one row) is now re-created by the two functions
-- that use it; before, after a crash they found no row and quietly did nothing: viewer counts were
-- never published again and the outbox was never pruned. restore_relay_state also moves the delivery
-- sequence ahead then (the relay commits asynchronously). docs/operations.md lists every UNLOGGED
-- table, what a crash loses and how it recovers.
--!include realtime/restore_relay_state.sql
--!include realtime/publish_viewer_counts.sql
--!include realtime/prune_stream_events.sql
comment on table app_private.relay_state is
  'When the relay last published viewer counts and pruned the outbox (UNLOGGED, one row: emptied by crash recovery and re-created by publish_viewer_counts and prune_stream_events themselves).';
