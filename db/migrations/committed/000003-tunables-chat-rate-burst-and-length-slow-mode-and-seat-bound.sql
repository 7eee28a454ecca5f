--! Previous: sha1:76a51f6102db75993f20bfb4fde900f33486ca41
--! Hash: sha1:02b7f66d668b29f5ce21f058d4e809f595d2f1e8
--! Message: Tunables: chat rate, burst and length, slow-mode and seat bounds, invitation lifetime and gift quantity cap in app_private.settings

--! split: 300-tunables.sql
-- Tunables where operators look for them: the chat rate and burst, the chat message length, the
-- slow-mode and seat-cap bounds, how long a stage invitation stays open and the gift quantity cap are rows of app_private.settings (next to
-- gift_fee_bps and gift_batch_size), documented in db/README.md ("Settings"). The functions read
-- them with a default for a missing row, so this file is re-runnable and a deleted row is harmless.
insert into app_private.settings (key, value) values
  ('chat_rate_per_second', '1.0'),
  ('chat_burst', '5'),
  ('chat_max_length', '500'),
  ('chat_slow_mode_max_seconds', '3600'),
  ('stage_max_seats', '12'),
  ('stage_invitation_seconds', '120'),
  ('gift_max_quantity', '1000')
on conflict (key) do nothing;

comment on table app_private.settings is
  'Server-written configuration (JWT secret, audience, token lifetime) and the operator tunables (gift fee and batch size, chat rate, burst and length, slow-mode and seat-cap bounds, stage invitation lifetime, gift quantity cap, retention): see db/README.md. Never exposed.';

--! Included chat/send_chat_message.sql
create or replace function app_public.send_chat_message(stream_id uuid, body text, client_id text default null)
  returns app_public.chat_message
  language plpgsql volatile
  security definer
  set search_path = ''
as $$
declare
  v_uid uuid := app_public.current_user_id();
  v_body text := btrim(body, E' \t\r\n');
  v_role app_public.app_role;
  v_is_banned boolean;
  v_sender jsonb;
  v_stream_id uuid;
  v_status text;
  v_broadcaster_id uuid;
  v_slow int;
  v_exempt boolean;
  v_hinted boolean;
  v_found boolean;
  v_rate real;        -- tokens per second (chat_rate_per_second)
  v_burst real;       -- bucket size (chat_burst)
  v_max_length int;   -- characters (chat_max_length)
  v_tokens real;
  v_wait numeric;
  v_id bigint;
  v_created_at timestamptz;
begin
  -- Ephemeral chat is not durable by accident (rule 4): this transaction's commit does not wait
  -- for a WAL flush (and it writes no WAL-logged row anyway).
  perform set_config('synchronous_commit', 'off', true);
  if v_uid is null then
    raise exception 'sign in to chat' using errcode = 'NOAUT';
  end if;

  -- One read: the chat tunables (app_private.settings, defaults when a row is missing), the sender's
  -- identity with the badge for this stream, and the stream. It decides nothing yet: the input checks
  -- below come first, as they always have.
  select coalesce(c.rate, 1.0), coalesce(c.burst, 5.0), coalesce(c.max_length, 500),
         i.user_id is not null, i.role, i.is_banned, s.id, s.status, s.broadcaster_id, s.chat_slow_mode_seconds,
         i.sender || jsonb_build_object('badge', case
           when s.broadcaster_id = v_uid then 'host'
           when i.role in ('moderator', 'admin') then i.role::text
         end),
         s.broadcaster_id = v_uid or i.role in ('moderator', 'admin'),
         s.id = any (i.restricted_in)
    into v_rate, v_burst, v_max_length,
         v_found, v_role, v_is_banned, v_stream_id, v_status, v_broadcaster_id, v_slow, v_sender, v_exempt, v_hinted
    from (select max(t.value) filter (where t.key = 'chat_rate_per_second')::real as rate,
                 max(t.value) filter (where t.key = 'chat_burst')::real as burst,
                 max(t.value) filter (where t.key = 'chat_max_length')::int as max_length
            from app_private.settings t
           where t.key in ('chat_rate_per_second', 'chat_burst', 'chat_max_length')) c
    left join app_private.user_identities i on i.user_id = v_uid
    left join app_public.streams s on s.id = send_chat_message.stream_id;

  if v_body is null or char_length(v_body) = 0 or char_length(v_body) > v_max_length then
    raise exception 'chat message must be 1-% characters', v_max_length using errcode = 'BADIN';
  end if;
  -- Control characters (NUL cannot even reach a text value) and invisible bidi/zero-width controls.
  if v_body ~ '[[:cntrl:]\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]' then
    raise exception 'chat message contains control characters' using errcode = 'BADIN';
  end if;
  if client_id is not null and (char_length(client_id) > 64 or client_id ~ '[[:cntrl:]]') then
    raise exception 'client_id must be at most 64 printable characters' using errcode = 'BADIN';
  end if;

  if not v_found or v_is_banned or v_stream_id is null or v_status <> 'live' then
    if not v_found then
      raise exception 'user % not found', v_uid using errcode = 'NOAUT';
    end if;
    if v_is_banned then
      raise exception 'user % is banned', v_sender ->> 'username' using errcode = 'BANND';
    end if;
    if v_stream_id is null then
      raise exception 'stream % not found', stream_id using errcode = 'NOFND';
    end if;
    raise exception 'stream % is not live', stream_id using errcode = 'NLIVE';
  end if;

  -- Stream bans and mutes: looked up only where the sender's hint names this stream (the hint is a
  -- superset of where such rows exist; the lookups decide).
  if v_hinted and not v_exempt then
    if exists (select 1 from app_public.stream_bans b
                where b.stream_id = v_stream_id and b.user_id = v_uid and (b.banned_until is null or b.banned_until > now())) then
      raise exception 'user % is banned from stream %', v_sender ->> 'username', v_stream_id using errcode = 'BANND';
    end if;
    if exists (select 1 from app_public.stream_mutes m
                where m.stream_id = v_stream_id and m.user_id = v_uid and (m.muted_until is null or m.muted_until > now())) then
      raise exception 'user % is muted in stream %', v_sender ->> 'username', v_stream_id using errcode = 'MUTED';
    end if;
  end if;

  if not v_exempt then
    -- Slow mode: one message per chat_slow_mode_seconds per user and stream.
    if v_slow > 0 then
      insert into app_private.chat_slow_mode as s (stream_id, user_id, last_at) values (v_stream_id, v_uid, now())
      on conflict on constraint chat_slow_mode_pkey do update set last_at = excluded.last_at
        where s.last_at <= now() - make_interval(secs => v_slow);
      if not found then
        select round(greatest(ceil(extract(epoch from (s.last_at + make_interval(secs => v_slow) - now())) * 10), 1) / 10, 1)
          into v_wait from app_private.chat_slow_mode s where s.stream_id = v_stream_id and s.user_id = v_uid;
        raise exception 'slow mode in stream %: retry after % seconds', v_stream_id, v_wait
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
      raise exception 'chat rate limit for user %: retry after % seconds', v_sender ->> 'username', v_wait
        using errcode = 'RATEL', detail = json_build_object('retry_after', v_wait)::text;
    end if;
  end if;

  insert into app_private.chat_messages (stream_id, sender_id, body, client_id, sender)
  values (v_stream_id, v_uid, v_body, send_chat_message.client_id, v_sender)
  returning chat_messages.id, chat_messages.created_at into v_id, v_created_at;
  perform app_private.publish_stream_event(v_stream_id, 'chat', jsonb_build_object(
    'message_id', v_id,
    'body', v_body,
    'client_id', send_chat_message.client_id,
    'sender', v_sender,
    'created_at', v_created_at
  ));
  return row(v_id, v_stream_id, v_uid, v_body, send_chat_message.client_id, v_sender, v_created_at)::app_public.chat_message;
end;
$$;
revoke all on function app_public.send_chat_message(stream_id uuid, body text, client_id text) from public, anon, authenticated;
grant execute on function app_public.send_chat_message(stream_id uuid, body text, client_id text) to authenticated;
comment on function app_public.send_chat_message(stream_id uuid, body text, client_id text) is
  E'Sends a chat message to a live stream; it reaches viewers as a `chat` event carrying the sender''s identity.\nBody trimmed, 1-500 characters (setting chat_max_length), no control characters. Rate limited per user (1/s, bursts of 5: settings chat_rate_per_second, chat_burst) and by the stream''s slow mode; the broadcaster and moderators are exempt.\nErrors: NOAUT, BADIN, NOFND, NLIVE, BANND (banned here or everywhere), MUTED, RATEL (retry after the seconds in the message).';
--! EndIncluded chat/send_chat_message.sql
--! Included chat/set_slow_mode.sql
create or replace function app_public.set_slow_mode(stream_id uuid, seconds int) returns app_public.streams
  language plpgsql volatile
  security definer
  set search_path = ''
as $$
declare
  v_stream app_public.streams;
  -- At most the table's own bound (streams_chat_slow_mode_seconds_check, 3600).
  v_max int := coalesce((select t.value::int from app_private.settings t where t.key = 'chat_slow_mode_max_seconds'), 3600);
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
  if seconds is null or seconds not between 0 and v_max then
    raise exception 'slow mode must be 0 (off) to % seconds', v_max using errcode = 'BADIN';
  end if;
  update app_public.streams s set chat_slow_mode_seconds = seconds where s.id = set_slow_mode.stream_id
    returning * into v_stream;
  perform app_private.log_moderation(stream_id, 'slow_mode', null, null, jsonb_build_object('seconds', seconds));
  perform app_private.publish_stream_event(stream_id, 'stream_state', jsonb_build_object('chat_slow_mode_seconds', seconds));
  return v_stream;
end;
$$;
revoke all on function app_public.set_slow_mode(stream_id uuid, seconds integer) from public, anon, authenticated;
grant execute on function app_public.set_slow_mode(stream_id uuid, seconds integer) to authenticated;
comment on function app_public.set_slow_mode(stream_id uuid, seconds integer) is
  'Sets the stream''s chat slow mode (0 = off, up to 3600 seconds between messages per viewer: setting chat_slow_mode_max_seconds). Errors: NOAUT, NOFND, DENYD, BADIN.';
--! EndIncluded chat/set_slow_mode.sql
--! Included stage/set_seat_cap.sql
create or replace function app_public.set_seat_cap(stream_id uuid, seat_cap integer) returns app_public.streams
  language plpgsql volatile
  security definer
  set search_path = ''
as $$
declare
  v_me app_public.users := app_private.require_user();
  v_stream app_public.streams;
  -- At most the table's own bound (streams_seat_cap_check, 12).
  v_max int := coalesce((select t.value::int from app_private.settings t where t.key = 'stage_max_seats'), 12);
begin
  select * into v_stream from app_public.streams s where s.id = set_seat_cap.stream_id for update;
  if v_stream.id is null then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  if not app_private.manages_stage(v_stream, v_me) then
    raise exception 'only the broadcaster or a moderator may size the stage of stream %', stream_id using errcode = 'DENYD';
  end if;
  if seat_cap is null or seat_cap not between 0 and v_max then
    raise exception 'seat_cap must be between 0 and %, got %', v_max, seat_cap using errcode = 'BADIN';
  end if;
  perform app_private.expire_due_seats(v_stream.id);
  if exists (select 1 from app_public.stream_seats s
              where s.stream_id = v_stream.id and s.status in ('invited', 'active') and s.slot > set_seat_cap.seat_cap) then
    raise exception 'stream % has open seats above slot %: revoke them first', stream_id, seat_cap using errcode = 'SEATF';
  end if;
  update app_public.streams s set seat_cap = set_seat_cap.seat_cap where s.id = v_stream.id returning * into v_stream;
  return v_stream;
end;
$$;
revoke all on function app_public.set_seat_cap(stream_id uuid, seat_cap integer) from public, anon, authenticated;
grant execute on function app_public.set_seat_cap(stream_id uuid, seat_cap integer) to authenticated;
comment on function app_public.set_seat_cap(stream_id uuid, seat_cap integer) is
  'Sets how many guest seats the stage has (0-12: setting stage_max_seats). Errors: NOAUT, BANND, NOFND, DENYD, BADIN, SEATF (open seats above the cap).';
--! EndIncluded stage/set_seat_cap.sql
--! Included stage/invite_to_seat.sql
create or replace function app_public.invite_to_seat(stream_id uuid, user_id uuid, slot integer default null, duration_seconds integer default null)
  returns app_public.stream_seats
  language plpgsql volatile
  security definer
  set search_path = ''
as $$
declare
  v_me app_public.users := app_private.require_user();
  v_stream app_public.streams;
  v_guest app_public.users;
  v_slot integer := slot;
  v_seat app_public.stream_seats;
begin
  -- Lock the stream: seat assignment is serialised per stream.
  select * into v_stream from app_public.streams s where s.id = invite_to_seat.stream_id for update;
  if v_stream.id is null then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  if not app_private.manages_stage(v_stream, v_me) then
    raise exception 'only the broadcaster or a moderator may invite to the stage of stream %', stream_id using errcode = 'DENYD';
  end if;
  if v_stream.status <> 'live' then
    raise exception 'stream % is not live', stream_id using errcode = 'NLIVE';
  end if;
  select * into v_guest from app_public.users u where u.id = invite_to_seat.user_id;
  if v_guest.id is null then
    raise exception 'user % not found', user_id using errcode = 'NOFND';
  end if;
  if v_guest.is_banned then
    raise exception 'user % is banned', v_guest.username using errcode = 'BANND';
  end if;
  if v_guest.id = v_stream.broadcaster_id then
    raise exception 'user % owns stream % and is always on its stage', v_guest.username, stream_id using errcode = 'BADIN';
  end if;
  if duration_seconds is not null and duration_seconds not between 10 and 86400 then
    raise exception 'seat duration must be 10-86400 seconds, got %', duration_seconds using errcode = 'BADIN';
  end if;
  perform app_private.expire_due_seats(v_stream.id);
  if exists (select 1 from app_public.stream_seats s
              where s.stream_id = v_stream.id and s.user_id = v_guest.id and s.status in ('invited', 'active')) then
    raise exception 'user % already has a seat on stream %', v_guest.username, stream_id using errcode = 'SEATF';
  end if;
  if (select count(*) from app_public.stream_seats s where s.stream_id = v_stream.id and s.status in ('invited', 'active')) >= v_stream.seat_cap then
    raise exception 'the stage of stream % is full (% seats)', stream_id, v_stream.seat_cap using errcode = 'SEATF';
  end if;
  if v_slot is null then
    select min(n) into v_slot from generate_series(1, v_stream.seat_cap) n
     where not exists (select 1 from app_public.stream_seats s
                        where s.stream_id = v_stream.id and s.slot = n and s.status in ('invited', 'active'));
  elsif v_slot not between 1 and v_stream.seat_cap then
    raise exception 'slot must be between 1 and % on stream %, got %', v_stream.seat_cap, stream_id, v_slot using errcode = 'BADIN';
  elsif exists (select 1 from app_public.stream_seats s
                 where s.stream_id = v_stream.id and s.slot = v_slot and s.status in ('invited', 'active')) then
    raise exception 'slot % on stream % is taken', v_slot, stream_id using errcode = 'SEATF';
  end if;
  insert into app_public.stream_seats (stream_id, user_id, slot, invited_by, duration_seconds, expires_at)
  values (v_stream.id, v_guest.id, v_slot, v_me.id, duration_seconds,
          now() + make_interval(secs => coalesce((select t.value::int from app_private.settings t where t.key = 'stage_invitation_seconds'), 120)))
  returning * into v_seat;
  return v_seat;
end;
$$;
revoke all on function app_public.invite_to_seat(stream_id uuid, user_id uuid, slot integer, duration_seconds integer) from public, anon, authenticated;
grant execute on function app_public.invite_to_seat(stream_id uuid, user_id uuid, slot integer, duration_seconds integer) to authenticated;
comment on function app_public.invite_to_seat(stream_id uuid, user_id uuid, slot integer, duration_seconds integer) is
  'Invites a user to a seat on the stage (the lowest free slot unless one is given). The invitation expires after 2 minutes (setting stage_invitation_seconds); the seat lasts duration_seconds once accepted (null: until left or revoked). Broadcaster, moderators and admins only. Errors: NOAUT, BANND, NOFND, DENYD, NLIVE, BADIN, SEATF (already seated, slot taken, stage full).';
--! EndIncluded stage/invite_to_seat.sql
--! Included gifts/send_gift.sql
create or replace function app_public.send_gift(stream_id uuid, gift_id uuid, quantity integer default 1, idempotency_key text default null)
  returns app_public.gift_receipt
  language plpgsql volatile
  security definer
  set search_path = ''
as $$
#variable_conflict use_column
declare
  v_uid uuid := app_public.current_user_id();
  v_sender app_public.users;
  v_stream app_public.streams;
  v_gift app_public.gifts;
  v_row app_private.gift_ledger;
  v_coins bigint;
  v_balance bigint;
  v_max_quantity int;
begin
  if v_uid is null then
    raise exception 'sign in to send gifts' using errcode = 'NOAUT';
  end if;
  if send_gift.idempotency_key is not null then
    if char_length(send_gift.idempotency_key) not between 1 and 200 then
      raise exception 'idempotency key must be 1-200 characters' using errcode = 'BADIN';
    end if;
    select * into v_row from app_private.gift_ledger g
     where g.sender_id = v_uid and g.idempotency_key = send_gift.idempotency_key;
    if found then
      return app_private.gift_receipt_for(v_row, send_gift.stream_id, send_gift.gift_id, send_gift.quantity);
    end if;
  end if;
  v_max_quantity := coalesce((select t.value::int from app_private.settings t where t.key = 'gift_max_quantity'), 1000);
  if send_gift.quantity is null or send_gift.quantity not between 1 and v_max_quantity then
    raise exception 'quantity must be between 1 and %, got %', v_max_quantity, send_gift.quantity using errcode = 'BADIN';
  end if;
  select * into v_sender from app_public.users u where u.id = v_uid;
  if not found then
    raise exception 'user % no longer exists', v_uid using errcode = 'NOAUT';
  end if;
  if v_sender.is_banned then
    raise exception 'user % is banned', v_sender.username using errcode = 'BANND';
  end if;
  select * into v_stream from app_public.streams s where s.id = send_gift.stream_id;
  if not found then
    raise exception 'stream % not found', send_gift.stream_id using errcode = 'NOFND';
  end if;
  if v_stream.status <> 'live' then
    raise exception 'stream % is not live', send_gift.stream_id using errcode = 'NLIVE';
  end if;
  if v_stream.broadcaster_id = v_uid then
    raise exception 'user % cannot send gifts to their own stream %', v_sender.username, v_stream.id using errcode = 'DENYD';
  end if;
  select * into v_gift from app_public.gifts gi where gi.id = send_gift.gift_id;
  if not found then
    raise exception 'gift % not found', send_gift.gift_id using errcode = 'NOFND';
  end if;
  if not v_gift.active then
    raise exception 'gift "%" is no longer available', v_gift.name using errcode = 'BADIN';
  end if;

  -- The debit first: the sender's own row only. No row, or too little: nothing is recorded (and no
  -- ledger id is spent on a gift that is refused).
  v_coins := v_gift.coin_price::bigint * send_gift.quantity;
  update app_private.wallets w set balance = w.balance - v_coins, updated_at = now()
   where w.user_id = v_uid and w.balance >= v_coins
   returning w.balance into v_balance;
  if not found then
    raise exception 'insufficient funds: % × "%" costs % coins, user % has %', send_gift.quantity, v_gift.name, v_coins,
      v_sender.username, coalesce((select w.balance from app_private.wallets w where w.user_id = v_uid), 0)
      using errcode = 'INSFD';
  end if;

  -- The hold (sender -> escrow); the trigger queues it for settlement.
  insert into app_private.gift_ledger (sender_id, receiver_id, stream_id, gift_id, quantity, unit_price, coins, fee_coins, idempotency_key)
    values (v_uid, v_stream.broadcaster_id, v_stream.id, v_gift.id, send_gift.quantity, v_gift.coin_price, v_coins,
            v_coins * app_private.gift_setting('gift_fee_bps', 2000) / 10000, send_gift.idempotency_key)
    on conflict (sender_id, idempotency_key) where idempotency_key is not null do nothing
    returning * into v_row;
  if not found then
    -- A concurrent request with the same key committed first: undo this debit (the whole function
    -- runs in the caller's transaction, so raise-and-catch would cost a subtransaction; a reverse
    -- update of the row we already hold is cheaper) and answer as its replay.
    update app_private.wallets w set balance = w.balance + v_coins, updated_at = now() where w.user_id = v_uid;
    select * into v_row from app_private.gift_ledger g
     where g.sender_id = v_uid and g.idempotency_key = send_gift.idempotency_key;
    return app_private.gift_receipt_for(v_row, send_gift.stream_id, send_gift.gift_id, send_gift.quantity);
  end if;

  perform app_private.publish_stream_event(v_stream.id, 'gift', jsonb_build_object(
    'type', 'gift',
    'id', v_row.id,
    'stream_id', v_stream.id,
    'receiver_id', v_stream.broadcaster_id,
    'sender', jsonb_build_object('id', v_sender.id, 'username', v_sender.username,
                                 'display_name', v_sender.display_name, 'avatar_url', v_sender.avatar_url),
    'gift', jsonb_build_object('id', v_gift.id, 'slug', v_gift.slug, 'name', v_gift.name,
                               'art_url', v_gift.art_url, 'coin_price', v_gift.coin_price),
    'quantity', send_gift.quantity,
    'coins', v_coins,
    'sent_at', v_row.created_at));

  return row(v_row.id, v_row.stream_id, v_row.gift_id, v_row.quantity, v_row.coins, 'pending', v_balance, false, v_row.created_at)::app_public.gift_receipt;
end;
$$;
revoke all on function app_public.send_gift(stream_id uuid, gift_id uuid, quantity integer, idempotency_key text) from public, anon, authenticated;
grant execute on function app_public.send_gift(stream_id uuid, gift_id uuid, quantity integer, idempotency_key text) to authenticated;
comment on function app_public.send_gift(stream_id uuid, gift_id uuid, quantity integer, idempotency_key text) is
  'Send `quantity` of a catalogue gift to a live stream''s broadcaster. The price comes from the catalogue; the sender is debited at once and the gift is settled to the broadcaster within about 10 s. Idempotent per sender and `idempotencyKey`: the same key with the same arguments returns the original receipt. Errors: NOAUT, BANND, BADIN (quantity 1-1000: setting gift_max_quantity; gift inactive), NOFND (stream or gift), NLIVE, DENYD (own stream), INSFD (cannot pay; nothing recorded), IDEMP (key reused with other arguments).';
--! EndIncluded gifts/send_gift.sql
