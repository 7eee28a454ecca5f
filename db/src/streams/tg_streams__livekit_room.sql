create or replace function app_private.tg_streams__livekit_room() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
begin
  -- Going live opens the stream's LiveKit room, ending it closes the room (and stops its egresses).
  -- The job re-reads the stream, so one key per stream: a pending job is replaced, never doubled.
  if to_regnamespace('graphile_worker') is null then
    return null; -- no worker schema yet (first start, before the worker): LiveKit opens rooms on first join anyway
  end if;
  if new.status = 'ended' then
    perform app_private.stop_stream_egresses(new.id, 'stream ended');
  end if;
  perform app_private.add_job('streams__livekit_room', json_build_object('stream_id', new.id), now(),
    'streams__livekit_room:' || new.id, 'livekit-room:' || new.id);
  return null;
end;
$$;
revoke all on function app_private.tg_streams__livekit_room() from public, anon, authenticated;
comment on function app_private.tg_streams__livekit_room() is
  'Enqueues streams__livekit_room when a stream goes live or ends (the mutation stays a database transaction; the worker talks to LiveKit).';
