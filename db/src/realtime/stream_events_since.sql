create or replace function app_public.stream_events_since(stream_id uuid, after_id bigint) returns setof app_public.stream_event
  language sql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
  select e.seq, e.kind, e.created_at, e.payload
    from app_private.stream_events e
   where e.stream_id = stream_events_since.stream_id and e.seq > coalesce(after_id, 0)
   order by e.seq
   limit 1000
$$;
revoke all on function app_public.stream_events_since(stream_id uuid, after_id bigint) from public, anon, authenticated;
grant execute on function app_public.stream_events_since(stream_id uuid, after_id bigint) to anon, authenticated;
comment on function app_public.stream_events_since(stream_id uuid, after_id bigint) is
  'Catch-up after a reconnect: relayed events of a stream with id > after_id, oldest first, at most 1000. Ids are shared by all streams, so gaps are normal. Events are kept for the stream_events_retention_seconds setting (default 120); after a longer absence reload recentChatMessages instead.';
