--! Previous: sha1:64db58d9d1a5ef11e51aa6c2d634c5cd2342b373
--! Hash: sha1:3eb291606bac6c2ba600ad6e456919f95aa2fd06
--! Message: realtime chat presence

--! split: 300-realtime.sql
-- Realtime: chat, moderation, presence and the stream-event relay (DESIGN §3 rules 1, 3, 4, 5).
--
-- Why it is shaped so:
-- * Chat is ephemeral and hot (100 msgs/s per stream, 10k msgs/s budget): a message touches only
--   UNLOGGED tables (rate-limit bucket, message buffer, outbox) and commits with
--   synchronous_commit = off. A transcript for moderation and late joiners is copied into a logged
--   table in batches (`flush_chat_transcript`), one statement per batch.
-- * Every event is self-contained (rule 3): the sender's name, avatar, badge and vehicle come from a
--   denormalised identity row (`app_private.user_identities`) that triggers keep current, read by
--   primary key on the hot path. Subscribers never query.
-- * The relay (`relay_stream_events`) is the only NOTIFY sender (rule 1): under an advisory lock it
--   numbers pending outbox rows in delivery order (`seq`, the event id clients see and resume from),
--   and sends one NOTIFY per stream per tick carrying the whole batch, split below 8000 bytes.
-- * Presence is counted in the Node processes and flushed here every few seconds (rule 5); rows of a
--   process that stopped flushing expire. The viewer count is published at most once per second.

--------------------------------------------------------------------------------
-- Drop first (re-runnable working migration), reverse order.
--------------------------------------------------------------------------------
drop function if exists app_public.streams_viewer_count(app_public.streams);
drop function if exists app_private.clear_presence(text);
drop function if exists app_private.flush_presence(text, jsonb);
drop function if exists app_private.relay_stream_events(int, int);
drop function if exists app_private.next_stream_event_batches(int, int);
drop function if exists app_private.prune_stream_events();
drop function if exists app_private.publish_viewer_counts();
drop function if exists app_private.flush_chat_transcript(int);
drop function if exists app_public.stream_events_since(uuid, bigint);
drop function if exists app_public.recent_chat_messages(uuid);
drop function if exists app_public.delete_chat_message(bigint, text);
drop function if exists app_public.set_slow_mode(uuid, int);
drop function if exists app_public.unban_user(uuid, uuid);
drop function if exists app_public.ban_user(uuid, uuid, text, int);
drop function if exists app_public.unmute_user(uuid, uuid);
drop function if exists app_public.mute_user(uuid, uuid, int, text);
drop function if exists app_public.send_chat_message(uuid, text, text);
drop function if exists app_private.log_moderation(uuid, text, uuid, text, jsonb);
drop function if exists app_private.moderation_target(uuid, uuid);
drop function if exists app_hidden.can_moderate_stream(uuid);
drop function if exists app_public.set_vehicle_status(text);
drop table if exists app_private.relay_state;
drop table if exists app_private.stream_viewer_counts;
drop table if exists app_private.presence_counts;
drop table if exists app_public.moderation_actions;
drop table if exists app_public.stream_bans;
drop table if exists app_public.stream_mutes;
drop table if exists app_private.chat_transcript;
drop table if exists app_private.chat_messages;
drop table if exists app_private.chat_slow_mode;
drop table if exists app_private.chat_rate_buckets;
drop type if exists app_public.stream_event;
drop type if exists app_public.chat_message;
drop sequence if exists app_private.chat_message_id_seq;
drop sequence if exists app_private.stream_event_seq;
drop trigger if exists _500_identity on app_public.users;
drop function if exists app_private.tg_users__identity();
drop table if exists app_private.user_identities;
alter table app_public.streams drop column if exists chat_slow_mode_seconds;
alter table app_public.users drop column if exists vehicle_status;
drop index if exists app_private.stream_events_pending_idx;
drop index if exists app_private.stream_events_stream_id_seq_idx;
drop index if exists app_private.stream_events_created_at_idx;
alter table app_private.stream_events drop column if exists seq;

--------------------------------------------------------------------------------
-- Identity: the sender data every chat/gift event carries, one row per user, kept by a trigger.
--------------------------------------------------------------------------------

alter table app_public.users add column vehicle_status text
  check (vehicle_status is null or (char_length(vehicle_status) between 1 and 40 and vehicle_status !~ '[[:cntrl:]]'));
grant update (vehicle_status) on app_public.users to authenticated;
comment on column app_public.users.vehicle_status is 'Cosmetic badge: the ride the user currently shows next to their name (1-40 characters), or null.';

create function app_public.set_vehicle_status(status text) returns app_public.users
  language plpgsql volatile
  set search_path = ''
as $$
declare
  v_user app_public.users;
begin
  if app_public.current_user_id() is null then
    raise exception 'sign in to set a vehicle status' using errcode = 'NOAUT';
  end if;
  status := nullif(btrim(status), '');
  if status is not null and (char_length(status) > 40 or status ~ '[[:cntrl:]]') then
    raise exception 'vehicle status must be 1-40 printable characters' using errcode = 'BADIN';
  end if;
  update app_public.users u set vehicle_status = status where u.id = app_public.current_user_id()
    returning * into v_user;
  return v_user;
end;
$$;
grant execute on function app_public.set_vehicle_status(text) to authenticated;
comment on function app_public.set_vehicle_status(text) is
  'Sets (or clears, with null/empty) the caller''s vehicle status shown in chat. Errors: NOAUT, BADIN.';

create table app_private.user_identities (
  user_id uuid primary key references app_public.users (id) on delete cascade,
  role app_public.app_role not null,
  is_banned boolean not null,
  sender jsonb not null,
  updated_at timestamptz not null default now()
);
comment on table app_private.user_identities is
  'Denormalised sender data (id, username, display name, avatar, role, vehicle status) embedded in every chat event; kept current by a trigger on users, read by primary key on the hot path.';

create function app_private.tg_users__identity() returns trigger
  language plpgsql
  set search_path = ''
as $$
begin
  insert into app_private.user_identities (user_id, role, is_banned, sender, updated_at)
  values (new.id, new.role, new.is_banned, jsonb_build_object(
    'id', new.id,
    'username', new.username,
    'display_name', new.display_name,
    'avatar_url', new.avatar_url,
    'role', new.role,
    'vehicle_status', new.vehicle_status
  ), now())
  on conflict (user_id) do update
    set role = excluded.role, is_banned = excluded.is_banned, sender = excluded.sender, updated_at = excluded.updated_at;
  return null;
end;
$$;
comment on function app_private.tg_users__identity() is 'Keeps app_private.user_identities in step with app_public.users.';
create trigger _500_identity after insert or update of username, display_name, avatar_url, role, is_banned, vehicle_status
  on app_public.users for each row execute function app_private.tg_users__identity();

-- Users that existed before this migration.
insert into app_private.user_identities (user_id, role, is_banned, sender)
select u.id, u.role, u.is_banned, jsonb_build_object('id', u.id, 'username', u.username, 'display_name', u.display_name,
  'avatar_url', u.avatar_url, 'role', u.role, 'vehicle_status', u.vehicle_status)
  from app_public.users u
on conflict (user_id) do nothing;

--------------------------------------------------------------------------------
-- Stream-event outbox: delivery numbering and retention for catch-up.
--------------------------------------------------------------------------------

-- seq: assigned by the relay in delivery order (null = not relayed yet). It is the event id clients
-- see and resume from. A logged sequence, so ids keep growing across a crash of the UNLOGGED outbox.
create sequence app_private.stream_event_seq;
alter table app_private.stream_events add column seq bigint;
create index stream_events_pending_idx on app_private.stream_events (id) where seq is null;
create index stream_events_stream_id_seq_idx on app_private.stream_events (stream_id, seq) where seq is not null;
create index stream_events_created_at_idx on app_private.stream_events (created_at);
comment on column app_private.stream_events.seq is 'Delivery number assigned by the relay (null until relayed); the id clients resume from.';

create type app_public.stream_event as (
  id bigint,
  kind text,
  at timestamptz,
  payload jsonb
);
comment on type app_public.stream_event is 'One relayed stream event, exactly as the broadcast socket and the streamEvents subscription deliver it.';
comment on column app_public.stream_event.id is 'Delivery number: increasing per stream in delivery order; resume after the last one seen.';
comment on column app_public.stream_event.kind is 'chat, chat_deleted, gift, viewer_count, seat, leaderboard, earnings or stream_state.';
comment on column app_public.stream_event.at is 'When the event was produced.';
comment on column app_public.stream_event.payload is 'Self-contained event data (see docs/realtime-protocol.md).';

--------------------------------------------------------------------------------
-- Chat: messages (UNLOGGED buffer), transcript (logged, written in batches), rate limits.
--------------------------------------------------------------------------------

alter table app_public.streams add column chat_slow_mode_seconds integer not null default 0
  check (chat_slow_mode_seconds between 0 and 3600);
comment on column app_public.streams.chat_slow_mode_seconds is 'Slow mode: minimum seconds between two messages of one viewer (0 = off). Set with setSlowMode.';

-- Message ids come from a logged sequence (one WAL record per 32 values, not per message) so they
-- keep increasing after a crash empties the UNLOGGED buffer.
create sequence app_private.chat_message_id_seq;

create unlogged table app_private.chat_messages (
  id bigint primary key default nextval('app_private.chat_message_id_seq'),
  stream_id uuid not null,
  sender_id uuid not null,
  body text not null,
  client_id text,
  sender jsonb not null,
  created_at timestamptz not null default now(),
  deleted_at timestamptz
);
create index chat_messages_stream_id_id_idx on app_private.chat_messages (stream_id, id);
comment on table app_private.chat_messages is
  'UNLOGGED buffer of accepted chat messages not yet copied into the transcript (flush_chat_transcript moves them in batches).';

create table app_private.chat_transcript (
  id bigint primary key,
  stream_id uuid not null references app_public.streams (id) on delete cascade,
  sender_id uuid not null references app_public.users (id) on delete cascade,
  body text not null,
  client_id text,
  sender jsonb not null,
  created_at timestamptz not null,
  deleted_at timestamptz,
  deleted_by uuid references app_public.users (id) on delete set null
);
create index chat_transcript_stream_id_id_idx on app_private.chat_transcript (stream_id, id);
create index chat_transcript_sender_id_idx on app_private.chat_transcript (sender_id);
create index chat_transcript_deleted_by_idx on app_private.chat_transcript (deleted_by);
create index chat_transcript_created_at_idx on app_private.chat_transcript (created_at);
comment on table app_private.chat_transcript is
  'Durable chat transcript for moderation and late joiners, written in batches; kept for the chat_transcript_retention_days setting (default 30).';

create unlogged table app_private.chat_rate_buckets (
  user_id uuid primary key,
  tokens real not null,
  refilled_at timestamptz not null
);
comment on table app_private.chat_rate_buckets is 'Per-user token bucket for chat (UNLOGGED: losing it on a crash only forgives a few messages).';

create unlogged table app_private.chat_slow_mode (
  stream_id uuid not null,
  user_id uuid not null,
  last_at timestamptz not null,
  primary key (stream_id, user_id)
);
comment on table app_private.chat_slow_mode is 'When each user last chatted in a stream in slow mode (UNLOGGED).';

create type app_public.chat_message as (
  id bigint,
  stream_id uuid,
  sender_id uuid,
  body text,
  client_id text,
  sender jsonb,
  created_at timestamptz
);
comment on type app_public.chat_message is 'A chat message as clients render it: the sender''s identity travels with it.';
comment on column app_public.chat_message.sender is 'id, username, display_name, avatar_url, role, badge (host, moderator, admin or null) and vehicle_status of the sender.';
comment on column app_public.chat_message.client_id is 'Opaque id the sending client chose, echoed so it can match its optimistic message.';

--------------------------------------------------------------------------------
-- Moderation: mutes, bans (per stream), and a log the broadcaster can read.
--------------------------------------------------------------------------------

create function app_hidden.can_moderate_stream(stream_id uuid) returns boolean
  language sql stable
  set search_path = ''
as $$
  select exists (
    select 1 from app_public.streams s
     where s.id = can_moderate_stream.stream_id and s.broadcaster_id = app_public.current_user_id()
  ) or exists (
    select 1 from app_public.users u
     where u.id = app_public.current_user_id() and u.role in ('moderator', 'admin')
  )
$$;
grant execute on function app_hidden.can_moderate_stream(uuid) to anon, authenticated;
comment on function app_hidden.can_moderate_stream(uuid) is 'True when the caller is the stream''s broadcaster or a moderator/admin.';

create table app_public.stream_mutes (
  stream_id uuid not null references app_public.streams (id) on delete cascade,
  user_id uuid not null references app_public.users (id) on delete cascade,
  muted_by uuid references app_public.users (id) on delete set null,
  reason text check (char_length(reason) <= 500),
  muted_until timestamptz,
  created_at timestamptz not null default now(),
  primary key (stream_id, user_id)
);
alter table app_public.stream_mutes enable row level security;
alter table app_public.stream_mutes force row level security;
create index stream_mutes_user_id_idx on app_public.stream_mutes (user_id);
create index stream_mutes_muted_by_idx on app_public.stream_mutes (muted_by);
-- Moderators of the stream see its mutes; a muted user sees their own (the UI says so).
create policy select_moderator_or_self on app_public.stream_mutes for select
  using (user_id = (select app_public.current_user_id()) or app_hidden.can_moderate_stream(stream_id));
grant select on app_public.stream_mutes to authenticated;
comment on table app_public.stream_mutes is 'Users who may not chat in a stream, until muted_until (null = until unmuted). Managed with muteUser/unmuteUser.';

create table app_public.stream_bans (
  stream_id uuid not null references app_public.streams (id) on delete cascade,
  user_id uuid not null references app_public.users (id) on delete cascade,
  banned_by uuid references app_public.users (id) on delete set null,
  reason text check (char_length(reason) <= 500),
  banned_until timestamptz,
  created_at timestamptz not null default now(),
  primary key (stream_id, user_id)
);
alter table app_public.stream_bans enable row level security;
alter table app_public.stream_bans force row level security;
create index stream_bans_user_id_idx on app_public.stream_bans (user_id);
create index stream_bans_banned_by_idx on app_public.stream_bans (banned_by);
-- Moderators of the stream see its bans; a banned user sees their own.
create policy select_moderator_or_self on app_public.stream_bans for select
  using (user_id = (select app_public.current_user_id()) or app_hidden.can_moderate_stream(stream_id));
grant select on app_public.stream_bans to authenticated;
comment on table app_public.stream_bans is 'Users banned from a stream''s chat (their messages are hidden), until banned_until (null = until unbanned).';

create table app_public.moderation_actions (
  id bigint generated always as identity primary key,
  stream_id uuid not null references app_public.streams (id) on delete cascade,
  actor_id uuid references app_public.users (id) on delete set null,
  action text not null check (action in ('mute', 'unmute', 'ban', 'unban', 'delete_message', 'slow_mode')),
  target_user_id uuid references app_public.users (id) on delete set null,
  reason text,
  details jsonb not null default '{}',
  created_at timestamptz not null default now()
);
alter table app_public.moderation_actions enable row level security;
alter table app_public.moderation_actions force row level security;
create index moderation_actions_stream_id_id_idx on app_public.moderation_actions (stream_id, id);
create index moderation_actions_actor_id_idx on app_public.moderation_actions (actor_id);
create index moderation_actions_target_user_id_idx on app_public.moderation_actions (target_user_id);
-- The broadcaster (and moderators/admins) read a stream's moderation log.
create policy select_as_moderator on app_public.moderation_actions for select
  using (app_hidden.can_moderate_stream(stream_id));
grant select on app_public.moderation_actions to authenticated;
comment on table app_public.moderation_actions is 'Moderation log of a stream (append-only, written by the moderation functions); readable by its broadcaster and moderators.';

create function app_private.log_moderation(stream_id uuid, action text, target_user_id uuid, reason text, details jsonb default '{}')
  returns void
  language sql volatile
  set search_path = ''
as $$
  insert into app_public.moderation_actions (stream_id, actor_id, action, target_user_id, reason, details)
  values (stream_id, app_public.current_user_id(), action, target_user_id, reason, coalesce(details, '{}'));
$$;
comment on function app_private.log_moderation(uuid, text, uuid, text, jsonb) is 'Appends to the moderation log as the current user.';

-- Checks shared by mute/ban: the caller may moderate, the stream exists, the target is fair game.
create function app_private.moderation_target(stream_id uuid, user_id uuid) returns app_public.streams
  language plpgsql stable
  set search_path = ''
as $$
declare
  v_stream app_public.streams;
  v_actor app_public.app_role;
  v_target app_public.app_role;
begin
  if app_public.current_user_id() is null then
    raise exception 'sign in to moderate' using errcode = 'NOAUT';
  end if;
  select * into v_stream from app_public.streams s where s.id = moderation_target.stream_id;
  if v_stream.id is null then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  select u.role into v_actor from app_public.users u where u.id = app_public.current_user_id();
  if v_stream.broadcaster_id <> app_public.current_user_id() and v_actor not in ('moderator', 'admin') then
    raise exception 'only the broadcaster or a moderator may moderate stream %', stream_id using errcode = 'DENYD';
  end if;
  select u.role into v_target from app_public.users u where u.id = moderation_target.user_id;
  if v_target is null then
    raise exception 'user % not found', user_id using errcode = 'NOFND';
  end if;
  if user_id = app_public.current_user_id() then
    raise exception 'you cannot moderate yourself' using errcode = 'BADIN';
  end if;
  if user_id = v_stream.broadcaster_id then
    raise exception 'the broadcaster of stream % cannot be muted or banned in it', stream_id using errcode = 'DENYD';
  end if;
  if v_target in ('moderator', 'admin') and v_actor is distinct from 'admin' then
    raise exception 'only an admin may mute or ban moderator %', user_id using errcode = 'DENYD';
  end if;
  return v_stream;
end;
$$;
comment on function app_private.moderation_target(uuid, uuid) is 'Shared checks for mute/ban: NOAUT, NOFND, DENYD, BADIN.';

--------------------------------------------------------------------------------
-- send_chat_message: the hot path. Reads by primary key, writes only UNLOGGED rows.
--------------------------------------------------------------------------------

create function app_public.send_chat_message(stream_id uuid, body text, client_id text default null)
  returns app_public.chat_message
  language plpgsql volatile
  security definer
  set search_path = ''
as $$
declare
  v_uid uuid := app_public.current_user_id();
  v_body text := btrim(body, E' \t\r\n');
  v_me app_private.user_identities;
  v_stream app_public.streams;
  v_exempt boolean;
  v_rate real := 1.0;   -- tokens per second
  v_burst real := 5.0;  -- bucket size
  v_tokens real;
  v_wait numeric;
  v_badge text;
  v_sender jsonb;
  v_msg app_public.chat_message;
begin
  -- Ephemeral chat is not durable by accident (rule 4): this transaction's commit does not wait
  -- for a WAL flush (and it writes no WAL-logged row anyway).
  perform set_config('synchronous_commit', 'off', true);
  if v_uid is null then
    raise exception 'sign in to chat' using errcode = 'NOAUT';
  end if;
  if v_body is null or char_length(v_body) = 0 or char_length(v_body) > 500 then
    raise exception 'chat message must be 1-500 characters' using errcode = 'BADIN';
  end if;
  -- Control characters (NUL cannot even reach a text value) and invisible bidi/zero-width controls.
  if v_body ~ '[[:cntrl:]\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]' then
    raise exception 'chat message contains control characters' using errcode = 'BADIN';
  end if;
  if client_id is not null and (char_length(client_id) > 64 or client_id ~ '[[:cntrl:]]') then
    raise exception 'client_id must be at most 64 printable characters' using errcode = 'BADIN';
  end if;

  select * into v_me from app_private.user_identities i where i.user_id = v_uid;
  if v_me.user_id is null then
    raise exception 'user % not found', v_uid using errcode = 'NOAUT';
  end if;
  if v_me.is_banned then
    raise exception 'user % is banned', v_me.sender ->> 'username' using errcode = 'BANND';
  end if;
  select * into v_stream from app_public.streams s where s.id = send_chat_message.stream_id;
  if v_stream.id is null then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  if v_stream.status <> 'live' then
    raise exception 'stream % is not live', stream_id using errcode = 'NLIVE';
  end if;

  v_exempt := v_stream.broadcaster_id = v_uid or v_me.role in ('moderator', 'admin');
  if not v_exempt then
    if exists (select 1 from app_public.stream_bans b
                where b.stream_id = v_stream.id and b.user_id = v_uid and (b.banned_until is null or b.banned_until > now())) then
      raise exception 'user % is banned from stream %', v_me.sender ->> 'username', v_stream.id using errcode = 'BANND';
    end if;
    if exists (select 1 from app_public.stream_mutes m
                where m.stream_id = v_stream.id and m.user_id = v_uid and (m.muted_until is null or m.muted_until > now())) then
      raise exception 'user % is muted in stream %', v_me.sender ->> 'username', v_stream.id using errcode = 'MUTED';
    end if;
    -- Slow mode: one message per chat_slow_mode_seconds per user and stream.
    if v_stream.chat_slow_mode_seconds > 0 then
      insert into app_private.chat_slow_mode as s (stream_id, user_id, last_at) values (v_stream.id, v_uid, now())
      on conflict on constraint chat_slow_mode_pkey do update set last_at = excluded.last_at
        where s.last_at <= now() - make_interval(secs => v_stream.chat_slow_mode_seconds);
      if not found then
        select round(greatest(ceil(extract(epoch from (s.last_at + make_interval(secs => v_stream.chat_slow_mode_seconds) - now())) * 10), 1) / 10, 1)
          into v_wait from app_private.chat_slow_mode s where s.stream_id = v_stream.id and s.user_id = v_uid;
        raise exception 'slow mode in stream %: retry after % seconds', v_stream.id, v_wait
          using errcode = 'RATEL', detail = json_build_object('retry_after', v_wait)::text;
      end if;
    end if;
    -- Per-user token bucket: v_rate messages per second, bursts of v_burst.
    insert into app_private.chat_rate_buckets as b (user_id, tokens, refilled_at) values (v_uid, v_burst - 1, now())
    on conflict (user_id) do update
      set tokens = least(v_burst, b.tokens + extract(epoch from now() - b.refilled_at)::real * v_rate) - 1,
          refilled_at = now()
      where least(v_burst, b.tokens + extract(epoch from now() - b.refilled_at)::real * v_rate) >= 1;
    if not found then
      select least(v_burst, b.tokens + extract(epoch from now() - b.refilled_at)::real * v_rate) into v_tokens
        from app_private.chat_rate_buckets b where b.user_id = v_uid;
      v_wait := round(greatest(ceil(((1 - v_tokens) / v_rate * 10)::numeric), 1) / 10, 1);
      raise exception 'chat rate limit for user %: retry after % seconds', v_me.sender ->> 'username', v_wait
        using errcode = 'RATEL', detail = json_build_object('retry_after', v_wait)::text;
    end if;
  end if;

  v_badge := case
    when v_uid = v_stream.broadcaster_id then 'host'
    when v_me.role in ('moderator', 'admin') then v_me.role::text
  end;
  v_sender := v_me.sender || jsonb_build_object('badge', v_badge);
  insert into app_private.chat_messages (stream_id, sender_id, body, client_id, sender)
  values (v_stream.id, v_uid, v_body, send_chat_message.client_id, v_sender)
  returning id, chat_messages.stream_id, sender_id, chat_messages.body, chat_messages.client_id, sender, created_at into v_msg;
  perform app_private.publish_stream_event(v_stream.id, 'chat', jsonb_build_object(
    'message_id', v_msg.id,
    'body', v_msg.body,
    'client_id', v_msg.client_id,
    'sender', v_sender,
    'created_at', v_msg.created_at
  ));
  return v_msg;
end;
$$;
grant execute on function app_public.send_chat_message(uuid, text, text) to authenticated;
comment on function app_public.send_chat_message(uuid, text, text) is
  E'Sends a chat message to a live stream; it reaches viewers as a `chat` event carrying the sender''s identity.\n'
  'Body trimmed, 1-500 characters, no control characters. Rate limited per user (1/s, bursts of 5) and by the stream''s slow mode; the broadcaster and moderators are exempt.\n'
  'Errors: NOAUT, BADIN, NOFND, NLIVE, BANND (banned here or everywhere), MUTED, RATEL (retry after the seconds in the message).';

--------------------------------------------------------------------------------
-- Moderation functions
--------------------------------------------------------------------------------

create function app_public.mute_user(stream_id uuid, user_id uuid, duration_seconds int default null, reason text default null)
  returns app_public.stream_mutes
  language plpgsql volatile
  security definer
  set search_path = ''
as $$
declare
  v_mute app_public.stream_mutes;
begin
  perform app_private.moderation_target(stream_id, user_id);
  if duration_seconds is not null and duration_seconds not between 1 and 31622400 then
    raise exception 'mute duration must be between 1 second and 366 days (or null for indefinitely)' using errcode = 'BADIN';
  end if;
  if reason is not null and char_length(reason) > 500 then
    raise exception 'reason must be at most 500 characters' using errcode = 'BADIN';
  end if;
  insert into app_public.stream_mutes as m (stream_id, user_id, muted_by, reason, muted_until)
  values (stream_id, user_id, app_public.current_user_id(), reason, now() + make_interval(secs => duration_seconds))
  on conflict on constraint stream_mutes_pkey do update
    set muted_by = excluded.muted_by, reason = excluded.reason, muted_until = excluded.muted_until, created_at = now()
  returning * into v_mute;
  perform app_private.log_moderation(stream_id, 'mute', user_id, reason, jsonb_build_object('duration_seconds', duration_seconds));
  return v_mute;
end;
$$;
grant execute on function app_public.mute_user(uuid, uuid, int, text) to authenticated;
comment on function app_public.mute_user(uuid, uuid, int, text) is
  'Mutes a user in a stream for duration_seconds (null = until unmuted); muting again replaces the duration. Broadcaster or moderator only. Errors: NOAUT, NOFND, DENYD, BADIN.';

create function app_public.unmute_user(stream_id uuid, user_id uuid) returns boolean
  language plpgsql volatile
  security definer
  set search_path = ''
as $$
begin
  perform app_private.moderation_target(stream_id, user_id);
  delete from app_public.stream_mutes m where m.stream_id = unmute_user.stream_id and m.user_id = unmute_user.user_id;
  if not found then
    return false;
  end if;
  perform app_private.log_moderation(stream_id, 'unmute', user_id, null);
  return true;
end;
$$;
grant execute on function app_public.unmute_user(uuid, uuid) to authenticated;
comment on function app_public.unmute_user(uuid, uuid) is 'Lifts a mute; false when the user was not muted. Errors: NOAUT, NOFND, DENYD.';

create function app_public.ban_user(stream_id uuid, user_id uuid, reason text default null, duration_seconds int default null)
  returns app_public.stream_bans
  language plpgsql volatile
  security definer
  set search_path = ''
as $$
declare
  v_ban app_public.stream_bans;
begin
  perform app_private.moderation_target(stream_id, user_id);
  if duration_seconds is not null and duration_seconds not between 1 and 31622400 then
    raise exception 'ban duration must be between 1 second and 366 days (or null for indefinitely)' using errcode = 'BADIN';
  end if;
  if reason is not null and char_length(reason) > 500 then
    raise exception 'reason must be at most 500 characters' using errcode = 'BADIN';
  end if;
  insert into app_public.stream_bans as b (stream_id, user_id, banned_by, reason, banned_until)
  values (stream_id, user_id, app_public.current_user_id(), reason, now() + make_interval(secs => duration_seconds))
  on conflict on constraint stream_bans_pkey do update
    set banned_by = excluded.banned_by, reason = excluded.reason, banned_until = excluded.banned_until, created_at = now()
  returning * into v_ban;
  perform app_private.log_moderation(stream_id, 'ban', user_id, reason, jsonb_build_object('duration_seconds', duration_seconds));
  -- Every client hides the banned user's messages.
  perform app_private.publish_stream_event(stream_id, 'chat_deleted', jsonb_build_object('user_id', user_id, 'reason', 'ban'));
  return v_ban;
end;
$$;
grant execute on function app_public.ban_user(uuid, uuid, text, int) to authenticated;
comment on function app_public.ban_user(uuid, uuid, text, int) is
  'Bans a user from a stream''s chat (null duration = until unbanned) and hides their messages for everyone (a chat_deleted event with user_id). Errors: NOAUT, NOFND, DENYD, BADIN.';

create function app_public.unban_user(stream_id uuid, user_id uuid) returns boolean
  language plpgsql volatile
  security definer
  set search_path = ''
as $$
begin
  perform app_private.moderation_target(stream_id, user_id);
  delete from app_public.stream_bans b where b.stream_id = unban_user.stream_id and b.user_id = unban_user.user_id;
  if not found then
    return false;
  end if;
  perform app_private.log_moderation(stream_id, 'unban', user_id, null);
  return true;
end;
$$;
grant execute on function app_public.unban_user(uuid, uuid) to authenticated;
comment on function app_public.unban_user(uuid, uuid) is 'Lifts a stream ban; false when the user was not banned. Errors: NOAUT, NOFND, DENYD.';

create function app_public.set_slow_mode(stream_id uuid, seconds int) returns app_public.streams
  language plpgsql volatile
  security definer
  set search_path = ''
as $$
declare
  v_stream app_public.streams;
begin
  if app_public.current_user_id() is null then
    raise exception 'sign in to moderate' using errcode = 'NOAUT';
  end if;
  if not exists (select 1 from app_public.streams s where s.id = set_slow_mode.stream_id) then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  if not app_hidden.can_moderate_stream(stream_id) then
    raise exception 'only the broadcaster or a moderator may set slow mode on stream %', stream_id using errcode = 'DENYD';
  end if;
  if seconds is null or seconds not between 0 and 3600 then
    raise exception 'slow mode must be 0 (off) to 3600 seconds' using errcode = 'BADIN';
  end if;
  update app_public.streams s set chat_slow_mode_seconds = seconds where s.id = set_slow_mode.stream_id
    returning * into v_stream;
  perform app_private.log_moderation(stream_id, 'slow_mode', null, null, jsonb_build_object('seconds', seconds));
  perform app_private.publish_stream_event(stream_id, 'stream_state', jsonb_build_object('chat_slow_mode_seconds', seconds));
  return v_stream;
end;
$$;
grant execute on function app_public.set_slow_mode(uuid, int) to authenticated;
comment on function app_public.set_slow_mode(uuid, int) is
  'Sets the stream''s chat slow mode (0 = off, up to 3600 seconds between messages per viewer). Errors: NOAUT, NOFND, DENYD, BADIN.';

create function app_public.delete_chat_message(message_id bigint, reason text default null) returns boolean
  language plpgsql volatile
  security definer
  set search_path = ''
as $$
declare
  v_uid uuid := app_public.current_user_id();
  v_stream_id uuid;
  v_sender_id uuid;
  v_deleted timestamptz;
begin
  if v_uid is null then
    raise exception 'sign in to delete chat messages' using errcode = 'NOAUT';
  end if;
  select m.stream_id, m.sender_id, m.deleted_at into v_stream_id, v_sender_id, v_deleted
    from app_private.chat_messages m where m.id = message_id;
  if v_stream_id is null then
    select t.stream_id, t.sender_id, t.deleted_at into v_stream_id, v_sender_id, v_deleted
      from app_private.chat_transcript t where t.id = message_id;
  end if;
  if v_stream_id is null then
    raise exception 'chat message % not found', message_id using errcode = 'NOFND';
  end if;
  if v_sender_id <> v_uid and not app_hidden.can_moderate_stream(v_stream_id) then
    raise exception 'only the sender, the broadcaster or a moderator may delete chat message %', message_id using errcode = 'DENYD';
  end if;
  if v_deleted is not null then
    return false;
  end if;
  update app_private.chat_messages m set deleted_at = now() where m.id = message_id;
  update app_private.chat_transcript t set deleted_at = now(), deleted_by = v_uid where t.id = message_id;
  if v_sender_id <> v_uid then
    perform app_private.log_moderation(v_stream_id, 'delete_message', v_sender_id, reason, jsonb_build_object('message_id', message_id));
  end if;
  perform app_private.publish_stream_event(v_stream_id, 'chat_deleted', jsonb_build_object('message_id', message_id));
  return true;
end;
$$;
grant execute on function app_public.delete_chat_message(bigint, text) to authenticated;
comment on function app_public.delete_chat_message(bigint, text) is
  'Deletes a chat message for everyone (a chat_deleted event); by its sender, the broadcaster or a moderator. False when already deleted. Errors: NOAUT, NOFND, DENYD.';

--------------------------------------------------------------------------------
-- Reading chat and events: last 50 messages, catch-up by event id.
--------------------------------------------------------------------------------

create function app_public.recent_chat_messages(stream_id uuid) returns setof app_public.chat_message
  language sql stable
  security definer
  set search_path = ''
as $$
  select r.id, r.stream_id, r.sender_id, r.body, r.client_id, r.sender, r.created_at
    from (
      (select m.id, m.stream_id, m.sender_id, m.body, m.client_id, m.sender, m.created_at
         from app_private.chat_messages m
        where m.stream_id = recent_chat_messages.stream_id and m.deleted_at is null
        order by m.id desc limit 200)
      union all
      (select t.id, t.stream_id, t.sender_id, t.body, t.client_id, t.sender, t.created_at
         from app_private.chat_transcript t
        where t.stream_id = recent_chat_messages.stream_id and t.deleted_at is null
        order by t.id desc limit 200)
    ) r
   where not exists (select 1 from app_public.users u where u.id = r.sender_id and u.is_banned)
     and not exists (select 1 from app_public.stream_bans b
                      where b.stream_id = r.stream_id and b.user_id = r.sender_id
                        and (b.banned_until is null or b.banned_until > now()))
   order by r.id desc
   limit 50
$$;
grant execute on function app_public.recent_chat_messages(uuid) to anon, authenticated;
comment on function app_public.recent_chat_messages(uuid) is
  'The last 50 chat messages of a stream (newest first), without deleted messages or messages of banned users: what a new viewer sees.';

create function app_public.stream_events_since(stream_id uuid, after_id bigint) returns setof app_public.stream_event
  language sql stable
  security definer
  set search_path = ''
as $$
  select e.seq, e.kind, e.created_at, e.payload
    from app_private.stream_events e
   where e.stream_id = stream_events_since.stream_id and e.seq > coalesce(after_id, 0)
   order by e.seq
   limit 1000
$$;
grant execute on function app_public.stream_events_since(uuid, bigint) to anon, authenticated;
comment on function app_public.stream_events_since(uuid, bigint) is
  'Catch-up after a reconnect: relayed events of a stream with id > after_id, oldest first, at most 1000. Ids are shared by all streams, so gaps are normal. Events are kept for the stream_events_retention_seconds setting (default 120); after a longer absence reload recentChatMessages instead.';

--------------------------------------------------------------------------------
-- Transcript: batches from the UNLOGGED buffer into the logged table.
--------------------------------------------------------------------------------

create function app_private.flush_chat_transcript(max_rows int default 10000) returns int
  language plpgsql volatile
  set search_path = ''
as $$
declare
  v_moved int;
  v_days int;
begin
  -- One statement per batch: delete from the buffer, insert into the transcript. SKIP LOCKED makes
  -- concurrent flushes safe; messages of streams or users deleted meanwhile are dropped.
  with moved as (
    delete from app_private.chat_messages m
     where m.id in (select b.id from app_private.chat_messages b order by b.id limit max_rows for update skip locked)
    returning m.*
  )
  insert into app_private.chat_transcript (id, stream_id, sender_id, body, client_id, sender, created_at, deleted_at)
  select mv.id, mv.stream_id, mv.sender_id, mv.body, mv.client_id, mv.sender, mv.created_at, mv.deleted_at
    from moved mv
   where exists (select 1 from app_public.streams s where s.id = mv.stream_id)
     and exists (select 1 from app_public.users u where u.id = mv.sender_id)
  on conflict (id) do nothing;
  get diagnostics v_moved = row_count;
  select coalesce(max(value)::int, 30) into v_days from app_private.settings where key = 'chat_transcript_retention_days';
  delete from app_private.chat_transcript t
   where t.id in (select o.id from app_private.chat_transcript o
                   where o.created_at < now() - make_interval(days => v_days) limit max_rows);
  return v_moved;
end;
$$;
comment on function app_private.flush_chat_transcript(int) is
  'Moves up to max_rows buffered chat messages into the durable transcript in one statement and prunes messages older than the chat_transcript_retention_days setting (default 30). Returns the number moved.';

--------------------------------------------------------------------------------
-- Presence: per-process counts, flushed every few seconds; stale rows expire.
--------------------------------------------------------------------------------

create unlogged table app_private.presence_counts (
  node_id text not null,
  stream_id uuid not null,
  viewers integer not null check (viewers >= 0),
  updated_at timestamptz not null default now(),
  primary key (node_id, stream_id)
);
create index presence_counts_stream_id_idx on app_private.presence_counts (stream_id);
comment on table app_private.presence_counts is
  'Live connections per Node process and stream (broadcast sockets + streamEvents subscriptions). Rows not refreshed for 15 s belong to a dead process and are ignored, then deleted.';

create unlogged table app_private.stream_viewer_counts (
  stream_id uuid primary key,
  viewers integer not null,
  published_at timestamptz not null
);
comment on table app_private.stream_viewer_counts is 'The last viewer_count event published per stream (at most one per second).';

create unlogged table app_private.relay_state (
  id boolean primary key default true check (id),
  counts_at timestamptz not null default '-infinity',
  pruned_at timestamptz not null default '-infinity'
);
insert into app_private.relay_state default values;
comment on table app_private.relay_state is 'When the relay last published viewer counts and pruned the outbox.';

create function app_private.flush_presence(node_id text, counts jsonb) returns void
  language plpgsql volatile
  set search_path = ''
as $$
begin
  perform set_config('synchronous_commit', 'off', true);
  insert into app_private.presence_counts as p (node_id, stream_id, viewers, updated_at)
  select flush_presence.node_id, c.key::uuid, c.value::int, now()
    from jsonb_each_text(coalesce(counts, '{}')) c
  on conflict on constraint presence_counts_pkey do update set viewers = excluded.viewers, updated_at = excluded.updated_at;
  delete from app_private.presence_counts p
   where p.node_id = flush_presence.node_id and not (coalesce(counts, '{}') ? p.stream_id::text);
end;
$$;
comment on function app_private.flush_presence(text, jsonb) is
  'A Node process reports its live connections per stream ({"<stream id>": n}); streams it no longer serves are removed. Called every few seconds, also as a liveness signal.';

create function app_private.clear_presence(node_id text) returns void
  language sql volatile
  set search_path = ''
as $$
  delete from app_private.presence_counts p where p.node_id = clear_presence.node_id;
$$;
comment on function app_private.clear_presence(text) is 'A Node process shutting down removes its presence rows.';

create function app_public.streams_viewer_count(s app_public.streams) returns integer
  language sql stable
  security definer
  set search_path = ''
as $$
  select coalesce(sum(p.viewers), 0)::int
    from app_private.presence_counts p
   where p.stream_id = s.id and p.updated_at > now() - interval '15 seconds'
$$;
grant execute on function app_public.streams_viewer_count(app_public.streams) to anon, authenticated;
comment on function app_public.streams_viewer_count(app_public.streams) is
  'Viewers connected now (broadcast sockets and streamEvents subscriptions over all server processes), at most a few seconds old.';

-- Publishes one viewer_count event per stream whose count changed, at most once per second overall
-- (so at most once per second per stream). Called by the relay under its lock.
create function app_private.publish_viewer_counts() returns int
  language plpgsql volatile
  set search_path = ''
as $$
declare
  v_n int;
begin
  update app_private.relay_state set counts_at = now() where counts_at <= now() - interval '1 second';
  if not found then
    return 0;
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
comment on function app_private.publish_viewer_counts() is 'Turns fresh presence counts into viewer_count events for streams whose count changed; at most once per second.';

--------------------------------------------------------------------------------
-- The relay: one NOTIFY per stream per tick with the whole batch (split below 8000 bytes).
--------------------------------------------------------------------------------

create function app_private.prune_stream_events() returns int
  language plpgsql volatile
  set search_path = ''
as $$
declare
  v_secs int;
  v_n int;
begin
  update app_private.relay_state set pruned_at = now() where pruned_at <= now() - interval '5 seconds';
  if not found then
    return 0;
  end if;
  select coalesce(max(value)::int, 120) into v_secs from app_private.settings where key = 'stream_events_retention_seconds';
  delete from app_private.stream_events e where e.created_at < now() - make_interval(secs => v_secs);
  get diagnostics v_n = row_count;
  return v_n;
end;
$$;
comment on function app_private.prune_stream_events() is
  'Deletes outbox events older than the stream_events_retention_seconds setting (default 120; the catch-up window); at most every 5 s.';

-- Numbers pending events in delivery order and cuts them into per-stream batches whose JSON stays
-- under max_payload bytes. Separate from the NOTIFY so tests can look at the batches.
create function app_private.next_stream_event_batches(max_events int default 10000, max_payload int default 7900)
  returns table (stream_id uuid, payload text, events int)
  language plpgsql volatile
  set search_path = ''
as $$
declare
  r record;
  v_base bigint;
  v_n int;
  v_head text;
  v_buf text := '';
  v_buf_len int := 0;
  v_count int := 0;
  v_event text;
  v_event_len int;
begin
  if max_payload is null or max_payload < 200 or max_payload > 7999 then
    raise exception 'max_payload must be 200-7999 bytes (NOTIFY payloads must stay below 8000)' using errcode = 'BADIN';
  end if;
  select count(*) into v_n from (
    select 1 from app_private.stream_events e where e.seq is null limit max_events
  ) p;
  if v_n = 0 then
    return;
  end if;
  -- Reserve v_n delivery numbers (only the relay uses this sequence, under its lock).
  v_base := nextval('app_private.stream_event_seq');
  if v_n > 1 then
    perform setval('app_private.stream_event_seq', v_base + v_n - 1);
  end if;
  with picked as (
    select e.id, v_base + row_number() over (order by e.id) - 1 as seq
      from app_private.stream_events e
     where e.seq is null
     order by e.id
     limit v_n
  )
  update app_private.stream_events e set seq = p.seq from picked p where e.id = p.id;

  for r in
    select e.stream_id, e.seq, e.kind, e.created_at, e.payload
      from app_private.stream_events e
     where e.seq between v_base and v_base + v_n - 1
     order by e.stream_id, e.seq
  loop
    if stream_id is distinct from r.stream_id then
      if v_buf_len > 0 then
        payload := v_head || v_buf || ']}';
        events := v_count;
        return next;
      end if;
      stream_id := r.stream_id;
      v_head := '{"stream_id":"' || r.stream_id || '","events":[';
      v_buf := '';
      v_buf_len := 0;
      v_count := 0;
    end if;
    v_event := json_build_object('id', r.seq, 'kind', r.kind, 'at', r.created_at, 'payload', r.payload)::text;
    v_event_len := octet_length(v_event);
    if octet_length(v_head) + v_event_len + 2 > max_payload then
      -- Too big for any NOTIFY: deliver a stub; clients fetch the event with streamEventsSince.
      v_event := json_build_object('id', r.seq, 'kind', r.kind, 'at', r.created_at, 'truncated', true)::text;
      v_event_len := octet_length(v_event);
    end if;
    if v_buf_len > 0 and octet_length(v_head) + v_buf_len + 1 + v_event_len + 2 > max_payload then
      payload := v_head || v_buf || ']}';
      events := v_count;
      return next;
      v_buf := '';
      v_buf_len := 0;
      v_count := 0;
    end if;
    if v_buf_len > 0 then
      v_buf := v_buf || ',';
      v_buf_len := v_buf_len + 1;
    end if;
    v_buf := v_buf || v_event;
    v_buf_len := v_buf_len + v_event_len;
    v_count := v_count + 1;
  end loop;
  if v_buf_len > 0 then
    payload := v_head || v_buf || ']}';
    events := v_count;
    return next;
  end if;
end;
$$;
comment on function app_private.next_stream_event_batches(int, int) is
  'Numbers up to max_events pending outbox events in delivery order (seq) and returns them as per-stream JSON batches {"stream_id", "events": [{id, kind, at, payload}]} of at most max_payload bytes each.';

create function app_private.relay_stream_events(max_events int default 10000, max_payload int default 7900)
  returns table (notifies int, events int)
  language plpgsql volatile
  set search_path = ''
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
comment on function app_private.relay_stream_events(int, int) is
  'Relay tick (every 50-100 ms from each server process; one runs at a time under an advisory lock, the others skip): publishes viewer counts, then sends one NOTIFY per stream batch on channel stream_events:<stream id>. Returns (notifies, events).';
