create or replace function app_private.publish_stream_event(stream_id uuid, kind text, payload jsonb) returns void
  language plpgsql volatile
as $$
begin
  insert into app_private.stream_events (stream_id, kind, payload)
    values (publish_stream_event.stream_id, publish_stream_event.kind, publish_stream_event.payload);
end;
$$;
revoke all on function app_private.publish_stream_event(stream_id uuid, kind text, payload jsonb) from public, anon, authenticated;
comment on function app_private.publish_stream_event(stream_id uuid, kind text, payload jsonb) is
  'Append an event to the outbox. Never NOTIFY from a hot write: the relay does that, once per stream per tick.';
