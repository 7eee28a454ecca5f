--! Previous: sha1:2fb0121f8e40a36607980372f3245f5e6b497d7f
--! Hash: sha1:c641debcc5b33c2621ff7a46f25cc859c76f1f43
--! Message: stream events outbox

-- Stream-event outbox (DESIGN §3 rules 1 and 3): SQL functions that produce events (chat, gifts,
-- settlement, seats, stream state, viewer counts) append self-contained rows here instead of calling
-- NOTIFY inside their transaction. A relay drains the outbox and sends one NOTIFY per stream per tick
-- with the whole batch. UNLOGGED: events are ephemeral (no WAL per event); after a crash they are
-- gone, and durable state (ledger, seats, streams) is re-read by clients through queries.

create unlogged table app_private.stream_events (
  id bigint generated always as identity primary key,
  stream_id uuid not null,
  kind text not null check (kind in ('chat', 'chat_deleted', 'gift', 'viewer_count', 'seat', 'leaderboard', 'earnings', 'stream_state')),
  payload jsonb not null,
  created_at timestamptz not null default now()
);
create index stream_events_stream_id_id_idx on app_private.stream_events (stream_id, id);
comment on table app_private.stream_events is
  'Outbox of stream events, drained by the relay into one NOTIFY per stream per tick. Payloads are self-contained.';

create function app_private.publish_stream_event(stream_id uuid, kind text, payload jsonb) returns void
  language sql volatile
  set search_path = ''
as $$
  insert into app_private.stream_events (stream_id, kind, payload) values (stream_id, kind, payload);
$$;
comment on function app_private.publish_stream_event(uuid, text, jsonb) is
  'Append an event to the outbox. Never NOTIFY from a hot write: the relay does that, once per stream per tick.';
