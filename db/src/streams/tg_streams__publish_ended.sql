create or replace function app_private.tg_streams__publish_ended() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
begin
  perform app_private.publish_stream_event(new.id, 'stream_state',
    jsonb_build_object('status', 'ended', 'ended_at', new.ended_at));
  return null;
end;
$$;
revoke all on function app_private.tg_streams__publish_ended() from public, anon, authenticated;
comment on function app_private.tg_streams__publish_ended() is
  'Tells viewers that a stream ended: a stream_state event {status: "ended", ended_at} through the outbox (players stop, the page says so).';
