--! Previous: sha1:d1d6013bfe0811f7a5b971d5bd15d3f1dc3b4588
--! Hash: sha1:b26dd1793db3a51ba0841b1dcb15f738f25575d2
--! Message: Group commit: set-based send_gifts and send_chat_messages for the server role

--! split: 400-group-commit.sql
-- Issue 14: group commit. Set-based batch versions of send_gift and send_chat_message for the
-- server's write batcher, executable only by trollcity_server (db/setup.sql). Re-runnable.
drop function if exists app_private.send_gifts(jsonb);
drop function if exists app_private.send_chat_messages(jsonb);
drop function if exists app_private.gift_request_rows(jsonb);
drop type if exists app_private.gift_request;

-- One row of a send_gifts batch as app_private.gift_request_rows reads it (db/src/gifts/gift_request_rows.sql).
create type app_private.gift_request as (
  ord integer, sender_id uuid, stream_raw text, stream_uuid uuid, gift_raw text, gift_uuid uuid, qty_raw text, qty integer,
  idem_key text, u_id uuid, username text, display_name text, avatar_url text, is_banned boolean,
  s_id uuid, s_status text, broadcaster_id uuid, g_id uuid, slug text, g_name text, art_url text, coin_price integer,
  active boolean, w_balance bigint, l_id bigint, l_stream uuid, l_gift uuid, l_qty integer, l_coins bigint,
  l_created timestamptz, srank bigint, kgroup integer, sfirst boolean,
  pre_code text, pre_message text, check_code text, check_message text);
comment on type app_private.gift_request is
  'One request of a send_gifts batch, parsed and joined with what its rules read (app_private.gift_request_rows).';
--! Included shared/server_role.access.sql
-- The server role (trollcity_server, NOLOGIN, created by db/setup.sql and granted to authenticator):
-- what the server's group-commit batcher (web/src/server/write-batcher.ts) runs as. It may call the
-- batch write functions, which take the sender ids the server verified from each request's JWT, and
-- nothing else in app_private: every function it can execute is SECURITY DEFINER and granted below
-- or in its own file.
revoke all on schema app_private from trollcity_server;
grant usage on schema app_private to trollcity_server;
--! EndIncluded shared/server_role.access.sql
--! Included gifts/gift_request_rows.sql
create or replace function app_private.gift_request_rows(requests jsonb)
  returns setof app_private.gift_request
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  -- send_gifts' requests, parsed (malformed ids and quantities become nulls, decided by send_gifts) and
  -- joined with what its rules read: sender, stream, gift, wallet, and the ledger row a key names.
  -- srank numbers the senders (sfirst: the sender's first request), kgroup names each (sender, key)
  -- group by its first request. The checks that depend on no other request are here, in send_gift's
  -- order: pre_code before the idempotency replay (sign-in, key length), check_code after it
  -- (quantity, sender, stream, gift), each with send_gift's message; send_gifts decides the rest (replays,
  -- funds) in request order. Its search_path is pinned like every function's (it is no longer inlined:
  -- it runs twice per batch, not per gift). The quantity cap is the gift_max_quantity setting.
  select c.*,
         case when c.sender_id is null then 'NOAUT'
              when c.idem_key is not null and char_length(c.idem_key) not between 1 and 200 then 'BADIN' end,
         case when c.sender_id is null then 'sign in to send gifts'
              when c.idem_key is not null and char_length(c.idem_key) not between 1 and 200 then 'idempotency key must be 1-200 characters' end,
         case when c.qty is null or c.qty not between 1 and coalesce((select t.value::int from app_private.settings t where t.key = 'gift_max_quantity'), 1000) then 'BADIN'
              when c.u_id is null then 'NOAUT'
              when c.is_banned then 'BANND'
              when c.s_id is null then 'NOFND'
              when c.s_status <> 'live' then 'NLIVE'
              when c.broadcaster_id = c.sender_id then 'DENYD'
              when c.g_id is null then 'NOFND'
              when not c.active then 'BADIN' end,
         case when c.qty is null or c.qty not between 1 and coalesce((select t.value::int from app_private.settings t where t.key = 'gift_max_quantity'), 1000)
              then format('quantity must be between 1 and %s, got %s', coalesce((select t.value::int from app_private.settings t where t.key = 'gift_max_quantity'), 1000), coalesce(c.qty_raw, '<NULL>'))
              when c.u_id is null then format('user %s no longer exists', c.sender_id)
              when c.is_banned then format('user %s is banned', c.username)
              when c.s_id is null then format('stream %s not found', coalesce(c.stream_raw, '<NULL>'))
              when c.s_status <> 'live' then format('stream %s is not live', c.s_id)
              when c.broadcaster_id = c.sender_id then format('user %s cannot send gifts to their own stream %s', c.username, c.s_id)
              when c.g_id is null then format('gift %s not found', coalesce(c.gift_raw, '<NULL>'))
              when not c.active then format('gift "%s" is no longer available', c.g_name) end
  from (
  select q.ord, q.sender_id, q.stream_raw, q.stream_uuid, q.gift_raw, q.gift_uuid, q.qty_raw,
         case when q.qty_raw ~ '^-?[0-9]{1,9}$' then q.qty_raw::integer end as qty,
         q.idem_key, u.id as u_id, u.username, u.display_name, u.avatar_url, u.is_banned,
         s.id as s_id, s.status as s_status, s.broadcaster_id, g.id as g_id, g.slug, g.name as g_name, g.art_url, g.coin_price, g.active,
         w.balance as w_balance, l.id as l_id, l.stream_id as l_stream, l.gift_id as l_gift, l.quantity as l_qty, l.coins as l_coins,
         l.created_at as l_created,
         dense_rank() over (order by q.sender_id) as srank,
         (first_value(q.ord) over (partition by q.sender_id, q.idem_key order by q.ord))::integer as kgroup,
         row_number() over (partition by q.sender_id order by q.ord) = 1 as sfirst
    from (
      select e.ord::integer as ord,
             case when e.r ->> 'sender_id' ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
                  then (e.r ->> 'sender_id')::uuid end as sender_id,
             e.r ->> 'stream_id' as stream_raw,
             case when e.r ->> 'stream_id' ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
                  then (e.r ->> 'stream_id')::uuid end as stream_uuid,
             e.r ->> 'gift_id' as gift_raw,
             case when e.r ->> 'gift_id' ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
                  then (e.r ->> 'gift_id')::uuid end as gift_uuid,
             case when jsonb_typeof(e.r) = 'object' and not e.r ? 'quantity' then '1' else e.r ->> 'quantity' end as qty_raw,
             e.r ->> 'idempotency_key' as idem_key
        from jsonb_array_elements(requests) with ordinality e(r, ord)
      offset 0
    ) q
    left join app_public.users u on u.id = q.sender_id
    left join app_public.streams s on s.id = q.stream_uuid
    left join app_public.gifts g on g.id = q.gift_uuid
    left join app_private.wallets w on w.user_id = q.sender_id
    -- (the not-null test lets the planner use the partial unique index on (sender_id, idempotency_key))
    left join app_private.gift_ledger l on l.sender_id = q.sender_id and l.idempotency_key = q.idem_key and l.idempotency_key is not null
  ) c
$$;
revoke all on function app_private.gift_request_rows(requests jsonb) from public, anon, authenticated;
comment on function app_private.gift_request_rows(requests jsonb) is
  'send_gifts'' requests parsed and joined with the rows its rules read (one definition for both of its queries).';
--! EndIncluded gifts/gift_request_rows.sql
--! Included gifts/send_gifts.sql
create or replace function app_private.send_gifts(requests jsonb)
  returns table (ord integer, gift_ledger_id bigint, stream_id uuid, gift_id uuid, quantity integer, coins bigint, status text,
                 balance bigint, replayed boolean, created_at text, error_code text, error_message text, retry_after numeric)
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
-- The same rules as app_public.send_gift, for many requests from many senders in one transaction
-- (group commit: one durable commit for the batch). Each element of `requests` is
-- {"sender_id", "stream_id", "gift_id", "quantity" (absent: 1), "idempotency_key"}; the sender id is
-- the one the server verified from the request's JWT. One row per request, in request order: the
-- receipt, or our error code and message. Nothing raises for a bad request, so one request never fails
-- the others. Requests are decided in order, as if sent one after another: a key used twice in the
-- batch replays the first accepted gift (IDEMP if the arguments differ), and each sender's balance runs
-- down through their requests. Wallets are locked first, in user id order, then the idempotency keys
-- are looked up, so a concurrent send_gift with the same key is either seen or waits for us.
#variable_conflict use_column
declare
  v_fee_bps integer := app_private.gift_setting('gift_fee_bps', 2000);
  v_n integer;
  v_rows app_private.gift_request[];
  r app_private.gift_request;
  v_coins bigint;
  v_j integer;
  -- Per sender (srank): running balance.
  s_balance bigint[];
  -- Per idempotency group (kgroup): the request that was accepted, and its arguments.
  k_accepted integer[];
  k_stream uuid[];
  k_gift uuid[];
  k_qty integer[];
  -- Per request: 'new' (accepted), 'replay' (of a gift committed before), 'again' (of one accepted
  -- earlier in this batch) or null (refused: code and message); the ledger id; the balance after it.
  o_kind text[];
  o_id bigint[];
  o_balance bigint[];
  o_code text[];
  o_message text[];
begin
  if jsonb_typeof(requests) is distinct from 'array' then
    raise exception 'send_gifts takes a JSON array of requests' using errcode = 'BADIN';
  end if;
  v_n := jsonb_array_length(requests);
  if v_n = 0 then
    return;
  end if;
  -- Arrays indexed by request, sender or group, sized to the batch (1-based, so unnest lines them up).
  s_balance := array_fill(null::bigint, array[v_n]);
  k_accepted := array_fill(null::integer, array[v_n]);
  k_stream := array_fill(null::uuid, array[v_n]);
  k_gift := array_fill(null::uuid, array[v_n]);
  k_qty := array_fill(null::integer, array[v_n]);
  o_kind := array_fill(null::text, array[v_n]);
  o_id := array_fill(null::bigint, array[v_n]);
  o_balance := array_fill(null::bigint, array[v_n]);
  o_code := array_fill(null::text, array[v_n]);
  o_message := array_fill(null::text, array[v_n]);

  -- Sorted locks: every sender's wallet, in user id order (as settlement does), before anything is read.
  perform 1 from app_private.wallets w
   where w.user_id in (select (e ->> 'sender_id')::uuid from jsonb_array_elements(requests) e
                        where jsonb_typeof(e) = 'object'
                          and e ->> 'sender_id' ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')
   order by w.user_id
   for update;

  -- The decisions, in request order: only what depends on earlier requests (replays, funds) is done
  -- here; the checks that depend on nothing else come with the rows (gift_request_rows).
  v_rows := array(select q from app_private.gift_request_rows(requests) q order by q.ord);
  foreach r in array v_rows loop
    if r.sfirst then
      s_balance[r.srank] := r.w_balance;
    end if;
    if r.pre_code is not null then
      o_code[r.ord] := r.pre_code; o_message[r.ord] := r.pre_message;
    elsif r.idem_key is not null and r.l_id is not null then
      -- Replay of a gift committed before this batch (gift_receipt_for's rule).
      if (r.l_stream, r.l_gift, r.l_qty) is distinct from (r.stream_uuid, r.gift_uuid, r.qty) then
        o_code[r.ord] := 'IDEMP';
        o_message[r.ord] := format('idempotency key "%s" was already used for another gift (ledger entry %s)', r.idem_key, r.l_id);
      else
        o_kind[r.ord] := 'replay'; o_id[r.ord] := r.l_id; o_balance[r.ord] := s_balance[r.srank];
      end if;
    elsif r.idem_key is not null and k_accepted[r.kgroup] is not null then
      -- Replay of a gift accepted earlier in this batch.
      v_j := k_accepted[r.kgroup];
      if (k_stream[r.kgroup], k_gift[r.kgroup], k_qty[r.kgroup]) is distinct from (r.stream_uuid, r.gift_uuid, r.qty) then
        o_code[r.ord] := 'IDEMP';
        o_message[r.ord] := format('idempotency key "%s" was already used for another gift (ledger entry %s)', r.idem_key, o_id[v_j]);
      else
        o_kind[r.ord] := 'again'; o_id[r.ord] := o_id[v_j]; o_balance[r.ord] := s_balance[r.srank];
      end if;
    elsif r.check_code is not null then
      o_code[r.ord] := r.check_code; o_message[r.ord] := r.check_message;
    else
      v_coins := r.coin_price::bigint * r.qty;
      if s_balance[r.srank] is null or s_balance[r.srank] < v_coins then
        o_code[r.ord] := 'INSFD';
        o_message[r.ord] := format('insufficient funds: %s × "%s" costs %s coins, user %s has %s', r.qty, r.g_name, v_coins,
                                   r.username, coalesce(s_balance[r.srank], 0));
      else
        -- Accepted: the id is taken now so later requests in the batch can name it.
        s_balance[r.srank] := s_balance[r.srank] - v_coins;
        o_kind[r.ord] := 'new'; o_id[r.ord] := nextval('app_private.gift_ledger_id_seq'); o_balance[r.ord] := s_balance[r.srank];
        if r.idem_key is not null then
          k_accepted[r.kgroup] := r.ord; k_stream[r.kgroup] := r.s_id; k_gift[r.kgroup] := r.g_id; k_qty[r.kgroup] := r.qty;
        end if;
      end if;
    end if;
  end loop;

  -- Everything else in one statement, set-based: the holds (sender -> escrow; the trigger queues each
  -- for settlement), one debit per sender (rows locked above), one outbox event per gift in request
  -- order (what app_private.publish_stream_event inserts), and one outcome row per request. A key
  -- committed meanwhile by someone who did not hold the wallet lock (no writer does: every one debits
  -- first) fails the batch on the unique index; the server then retries each request alone.
  return query
    with q as (select * from unnest(v_rows)),
         o as (select * from unnest(o_kind, o_id, o_balance, o_code, o_message) with ordinality x(kind, id, balance, code, message, ord)),
         acc as materialized (
           select q.*, o.id as ledger_id, q.coin_price::bigint * q.qty as gift_coins
             from q join o on o.ord = q.ord
            where o.kind = 'new'),
         ins as (
           insert into app_private.gift_ledger (id, sender_id, receiver_id, stream_id, gift_id, quantity, unit_price, coins, fee_coins, idempotency_key)
             overriding system value
           select a.ledger_id, a.sender_id, a.broadcaster_id, a.s_id, a.g_id, a.qty, a.coin_price, a.gift_coins,
                  a.gift_coins * v_fee_bps / 10000, a.idem_key
             from acc a order by a.ord
           returning 1),
         deb as (
           update app_private.wallets w set balance = w.balance - d.total, updated_at = now()
             from (select a.sender_id as uid, sum(a.gift_coins)::bigint as total from acc a group by a.sender_id) d
            where w.user_id = d.uid
           returning 1),
         ev as (
           insert into app_private.stream_events (stream_id, kind, payload)
           select a.s_id, 'gift', jsonb_build_object(
                    'type', 'gift',
                    'id', a.ledger_id,
                    'stream_id', a.s_id,
                    'receiver_id', a.broadcaster_id,
                    'sender', jsonb_build_object('id', a.sender_id, 'username', a.username,
                                                 'display_name', a.display_name, 'avatar_url', a.avatar_url),
                    'gift', jsonb_build_object('id', a.g_id, 'slug', a.slug, 'name', a.g_name,
                                               'art_url', a.art_url, 'coin_price', a.coin_price),
                    'quantity', a.qty,
                    'coins', a.gift_coins,
                    'sent_at', now())
             from acc a order by a.ord
           returning 1)
    select o.ord::integer, o.id,
           case o.kind when 'replay' then q.l_stream when 'new' then q.s_id when 'again' then q.s_id end,
           case o.kind when 'replay' then q.l_gift when 'new' then q.g_id when 'again' then q.g_id end,
           case o.kind when 'replay' then q.l_qty when 'new' then q.qty when 'again' then q.qty end,
           case o.kind when 'replay' then q.l_coins when 'new' then q.coin_price::bigint * q.qty when 'again' then q.coin_price::bigint * q.qty end,
           case o.kind when 'replay' then (app_private.gift_status(o.id)).status when 'new' then 'pending' when 'again' then 'pending' end,
           o.balance,
           case when o.kind is not null then o.kind <> 'new' end,
           to_char(case o.kind when 'replay' then q.l_created when 'new' then now() when 'again' then now() end, 'YYYY-MM-DD"T"HH24:MI:SS.USTZH:TZM'),
           o.code, o.message, null::numeric
      from o join q on q.ord = o.ord
     order by o.ord;
end;
$$;
revoke all on function app_private.send_gifts(requests jsonb) from public, anon, authenticated;
grant execute on function app_private.send_gifts(requests jsonb) to trollcity_server;
comment on function app_private.send_gifts(requests jsonb) is
  'Group commit for gifts: app_public.send_gift''s rules for a batch of requests from many senders (sender ids verified by the server), one outcome row per request (receipt, or error code and message), in request order; never raises for one request. Executable by trollcity_server only.';
--! EndIncluded gifts/send_gifts.sql
--! Included chat/send_chat_messages.sql
create or replace function app_private.send_chat_messages(requests jsonb)
  returns table (ord integer, message_id bigint, stream_id uuid, sender_id uuid, body text, client_id text, sender jsonb,
                 created_at text, error_code text, error_message text, retry_after numeric)
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
-- The same rules as app_public.send_chat_message, for many messages from many senders in one
-- transaction (group commit). Each element of `requests` is {"sender_id", "stream_id", "body",
-- "client_id"}; the sender id is the one the server verified from the request's JWT. One row per
-- request, in request order: the message, or our error code, message and retry_after (RATEL). Nothing
-- raises for a bad request. Requests are decided in order, as if sent one after another: a sender's
-- token bucket and slow-mode clock run through their messages in the batch, and a refused message
-- changes neither. The rate, burst and length come from the same settings as send_chat_message's
-- (chat_rate_per_second, chat_burst, chat_max_length), and the body gets the same text rules as
-- app_hidden.clean_line (NFC, trimmed, no hidden or control characters), without raising.
-- Locks: the senders' bucket rows (a missing row is created full, which is the same state) and
-- slow-mode rows, in key order, before they are read.
#variable_conflict use_column
declare
  c_uuid constant text := '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
  v_rate real;        -- tokens per second (chat_rate_per_second)
  v_burst real;       -- bucket size (chat_burst)
  v_max_length int;   -- characters (chat_max_length)
  v_bad text;
  v_n integer;
  r record;
  v_tokens real;
  v_avail real;
  v_last timestamptz;
  v_wait numeric;
  v_id bigint;
  v_k integer := 0;
  -- Per sender (dense rank): bucket state; per (stream, sender) pair: last message in slow mode.
  u_seen boolean[] := '{}';
  u_tokens real[] := '{}';
  u_refilled timestamptz[] := '{}';
  u_dirty boolean[] := '{}';
  u_id uuid[] := '{}';
  p_seen boolean[] := '{}';
  p_last timestamptz[] := '{}';
  p_dirty boolean[] := '{}';
  p_stream uuid[] := '{}';
  p_user uuid[] := '{}';
  -- Per request: the outcome.
  o_id bigint[] := '{}';
  o_stream uuid[] := '{}';
  o_sender_id uuid[] := '{}';
  o_body text[] := '{}';
  o_client text[] := '{}';
  o_sender jsonb[] := '{}';
  o_code text[] := '{}';
  o_message text[] := '{}';
  o_retry numeric[] := '{}';
begin
  -- Ephemeral chat is not durable by accident (rule 4), as in send_chat_message.
  perform set_config('synchronous_commit', 'off', true);
  if jsonb_typeof(requests) is distinct from 'array' then
    raise exception 'send_chat_messages takes a JSON array of requests' using errcode = 'BADIN';
  end if;
  select coalesce(max(t.value) filter (where t.key = 'chat_rate_per_second')::real, 1.0),
         coalesce(max(t.value) filter (where t.key = 'chat_burst')::real, 5.0),
         coalesce(max(t.value) filter (where t.key = 'chat_max_length')::int, 500)
    into v_rate, v_burst, v_max_length
    from app_private.settings t
   where t.key in ('chat_rate_per_second', 'chat_burst', 'chat_max_length');
  v_n := jsonb_array_length(requests);
  if v_n = 0 then
    return;
  end if;
  -- Every array indexed by request or rank is sized to the batch (1-based, so unnest lines them up).
  u_seen := array_fill(null::boolean, array[v_n]);
  u_tokens := array_fill(null::real, array[v_n]);
  u_refilled := array_fill(null::timestamptz, array[v_n]);
  u_dirty := array_fill(null::boolean, array[v_n]);
  u_id := array_fill(null::uuid, array[v_n]);
  p_seen := array_fill(null::boolean, array[v_n]);
  p_last := array_fill(null::timestamptz, array[v_n]);
  p_dirty := array_fill(null::boolean, array[v_n]);
  p_stream := array_fill(null::uuid, array[v_n]);
  p_user := array_fill(null::uuid, array[v_n]);
  o_id := array_fill(null::bigint, array[v_n]);
  o_stream := array_fill(null::uuid, array[v_n]);
  o_sender_id := array_fill(null::uuid, array[v_n]);
  o_body := array_fill(null::text, array[v_n]);
  o_client := array_fill(null::text, array[v_n]);
  o_sender := array_fill(null::jsonb, array[v_n]);
  o_code := array_fill(null::text, array[v_n]);
  o_message := array_fill(null::text, array[v_n]);
  o_retry := array_fill(null::numeric, array[v_n]);

  -- Sorted locks. Token buckets of every sender that exists (a full new bucket equals no bucket).
  insert into app_private.chat_rate_buckets as b (user_id, tokens, refilled_at)
  select distinct i.user_id, v_burst, now()
    from jsonb_array_elements(requests) e
    join app_private.user_identities i on i.user_id = (case when e ->> 'sender_id' ~ c_uuid then (e ->> 'sender_id')::uuid end)
   order by 1
  on conflict (user_id) do nothing;
  perform 1 from app_private.chat_rate_buckets b
   where b.user_id in (select (e ->> 'sender_id')::uuid from jsonb_array_elements(requests) e where e ->> 'sender_id' ~ c_uuid)
   order by b.user_id
   for update;
  -- Slow-mode clocks of every (stream in slow mode, sender) pair ('-infinity': never chatted there).
  insert into app_private.chat_slow_mode as sm (stream_id, user_id, last_at)
  select distinct s.id, i.user_id, '-infinity'::timestamptz
    from jsonb_array_elements(requests) e
    join app_private.user_identities i on i.user_id = (case when e ->> 'sender_id' ~ c_uuid then (e ->> 'sender_id')::uuid end)
    join app_public.streams s on s.id = (case when e ->> 'stream_id' ~ c_uuid then (e ->> 'stream_id')::uuid end)
   where s.chat_slow_mode_seconds > 0
   order by 1, 2
  on conflict on constraint chat_slow_mode_pkey do nothing;
  perform 1 from app_private.chat_slow_mode sm
    join (select case when e ->> 'stream_id' ~ c_uuid then (e ->> 'stream_id')::uuid end as s,
                 case when e ->> 'sender_id' ~ c_uuid then (e ->> 'sender_id')::uuid end as u
            from jsonb_array_elements(requests) e) x on x.s = sm.stream_id and x.u = sm.user_id
   order by sm.stream_id, sm.user_id
   for update of sm;

  for r in
    select q.*, i.user_id is not null as user_found, i.role, i.is_banned,
           s.id as s_id, s.status as s_status, s.chat_slow_mode_seconds as slow,
           i.sender || jsonb_build_object('badge', case
             when s.broadcaster_id = q.sender_id then 'host'
             when i.role in ('moderator', 'admin') then i.role::text
           end) as sender_json,
           s.broadcaster_id = q.sender_id or i.role in ('moderator', 'admin') as exempt,
           s.id = any (i.restricted_in) as hinted,
           b.tokens as b_tokens, b.refilled_at as b_refilled, sm.last_at as sm_last,
           dense_rank() over (order by q.sender_id) as urank,
           dense_rank() over (order by s.id, q.sender_id) as prank
      from (
        select e.ord::integer as ord,
               case when e.r ->> 'sender_id' ~ c_uuid then (e.r ->> 'sender_id')::uuid end as sender_id,
               e.r ->> 'stream_id' as stream_raw,
               case when e.r ->> 'stream_id' ~ c_uuid then (e.r ->> 'stream_id')::uuid end as stream_uuid,
               nullif(btrim(normalize(e.r ->> 'body', nfc),
                 E' \t\n\r\u00A0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200A\u202F\u205F\u3000'), '') as body_text,
               e.r ->> 'client_id' as client_text
          from jsonb_array_elements(requests) with ordinality e(r, ord)
      ) q
      left join app_private.user_identities i on i.user_id = q.sender_id
      left join app_public.streams s on s.id = q.stream_uuid
      left join app_private.chat_rate_buckets b on b.user_id = q.sender_id
      left join app_private.chat_slow_mode sm on sm.stream_id = s.id and sm.user_id = q.sender_id
     order by q.ord
  loop
    if not u_seen[r.urank] is true then
      u_seen[r.urank] := true; u_tokens[r.urank] := r.b_tokens; u_refilled[r.urank] := r.b_refilled; u_id[r.urank] := r.sender_id;
    end if;
    if not p_seen[r.prank] is true then
      p_seen[r.prank] := true; p_last[r.prank] := r.sm_last; p_stream[r.prank] := r.s_id; p_user[r.prank] := r.sender_id;
    end if;
    if r.sender_id is null then
      o_code[r.ord] := 'NOAUT'; o_message[r.ord] := 'sign in to chat';
    elsif r.body_text is null or char_length(r.body_text) > v_max_length then
      o_code[r.ord] := 'BADIN'; o_message[r.ord] := format('chat message must be 1-%s characters', v_max_length);
    elsif (substring(r.body_text from app_hidden.hidden_chars())) is not null then
      v_bad := substring(r.body_text from app_hidden.hidden_chars());
      o_code[r.ord] := 'BADIN';
      o_message[r.ord] := format('chat message contains an invisible or control character (U+%s)', upper(lpad(to_hex(ascii(v_bad)), 4, '0')));
    elsif r.client_text is not null and (char_length(r.client_text) > 64 or not app_hidden.is_clean_line(r.client_text)) then
      o_code[r.ord] := 'BADIN'; o_message[r.ord] := 'client_id must be at most 64 printable characters';
    elsif not r.user_found then
      o_code[r.ord] := 'NOAUT'; o_message[r.ord] := format('user %s not found', r.sender_id);
    elsif r.is_banned then
      o_code[r.ord] := 'BANND'; o_message[r.ord] := format('user %s is banned', r.sender_json ->> 'username');
    elsif r.s_id is null then
      o_code[r.ord] := 'NOFND'; o_message[r.ord] := format('stream %s not found', coalesce(r.stream_raw, '<NULL>'));
    elsif r.s_status <> 'live' then
      o_code[r.ord] := 'NLIVE'; o_message[r.ord] := format('stream %s is not live', r.s_id);
    elsif r.hinted and not r.exempt and exists (
            select 1 from app_public.stream_bans b
             where b.stream_id = r.s_id and b.user_id = r.sender_id and (b.banned_until is null or b.banned_until > now())) then
      o_code[r.ord] := 'BANND'; o_message[r.ord] := format('user %s is banned from stream %s', r.sender_json ->> 'username', r.s_id);
    elsif r.hinted and not r.exempt and exists (
            select 1 from app_public.stream_mutes m
             where m.stream_id = r.s_id and m.user_id = r.sender_id and (m.muted_until is null or m.muted_until > now())) then
      o_code[r.ord] := 'MUTED'; o_message[r.ord] := format('user %s is muted in stream %s', r.sender_json ->> 'username', r.s_id);
    else
      v_wait := null;
      if not r.exempt then
        -- Slow mode: one message per chat_slow_mode_seconds per user and stream.
        v_last := p_last[r.prank];
        if r.slow > 0 and v_last is not null and v_last > now() - make_interval(secs => r.slow) then
          v_wait := round(greatest(ceil(extract(epoch from (v_last + make_interval(secs => r.slow) - now())) * 10), 1) / 10, 1);
          o_code[r.ord] := 'RATEL'; o_retry[r.ord] := v_wait;
          o_message[r.ord] := format('slow mode in stream %s: retry after %s seconds', r.s_id, v_wait);
        else
          -- Token bucket: v_rate messages per second, bursts of v_burst.
          v_tokens := u_tokens[r.urank];
          v_avail := case when v_tokens is null then v_burst
                          else least(v_burst, v_tokens + extract(epoch from now() - u_refilled[r.urank])::real * v_rate) end;
          if v_avail < 1 then
            v_wait := round(greatest(ceil(((1 - v_avail) / v_rate * 10)::numeric), 1) / 10, 1);
            o_code[r.ord] := 'RATEL'; o_retry[r.ord] := v_wait;
            o_message[r.ord] := format('chat rate limit for user %s: retry after %s seconds', r.sender_json ->> 'username', v_wait);
          else
            u_tokens[r.urank] := v_avail - 1; u_refilled[r.urank] := now(); u_dirty[r.urank] := true;
            if r.slow > 0 then
              p_last[r.prank] := now(); p_dirty[r.prank] := true;
            end if;
          end if;
        end if;
      end if;
      if v_wait is null then
        v_id := nextval('app_private.chat_message_id_seq');
        v_k := v_k + 1;
        o_id[r.ord] := v_id; o_stream[r.ord] := r.s_id; o_sender_id[r.ord] := r.sender_id; o_body[r.ord] := r.body_text;
        o_client[r.ord] := r.client_text; o_sender[r.ord] := r.sender_json;
      end if;
    end if;
  end loop;

  if v_k > 0 then
    insert into app_private.chat_messages (id, stream_id, sender_id, body, client_id, sender)
    select x.id, x.stream_id, x.sender_id, x.body, x.client_id, x.sender
      from unnest(o_id, o_stream, o_sender_id, o_body, o_client, o_sender) with ordinality x(id, stream_id, sender_id, body, client_id, sender, i)
     where x.id is not null
     order by x.i;
    -- One outbox event per message, in request order (what app_private.publish_stream_event inserts).
    insert into app_private.stream_events (stream_id, kind, payload)
    select x.stream_id, 'chat', jsonb_build_object('message_id', x.id, 'body', x.body, 'client_id', x.client_id,
                                                   'sender', x.sender, 'created_at', now())
      from unnest(o_id, o_stream, o_body, o_client, o_sender) with ordinality x(id, stream_id, body, client_id, sender, i)
     where x.id is not null
     order by x.i;
  end if;
  update app_private.chat_rate_buckets b set tokens = x.tokens, refilled_at = x.refilled_at
    from unnest(u_id, u_tokens, u_refilled, u_dirty) x(user_id, tokens, refilled_at, dirty)
   where x.dirty and b.user_id = x.user_id;
  update app_private.chat_slow_mode sm set last_at = x.last_at
    from unnest(p_stream, p_user, p_last, p_dirty) x(stream_id, user_id, last_at, dirty)
   where x.dirty and sm.stream_id = x.stream_id and sm.user_id = x.user_id;

  return query
    select i, o_id[i], o_stream[i], o_sender_id[i], o_body[i], o_client[i], o_sender[i],
           case when o_id[i] is not null then to_char(now(), 'YYYY-MM-DD"T"HH24:MI:SS.USTZH:TZM') end,
           o_code[i], o_message[i], o_retry[i]
      from generate_series(1, v_n) i;
end;
$$;
revoke all on function app_private.send_chat_messages(requests jsonb) from public, anon, authenticated;
grant execute on function app_private.send_chat_messages(requests jsonb) to trollcity_server;
comment on function app_private.send_chat_messages(requests jsonb) is
  'Group commit for chat: app_public.send_chat_message''s rules for a batch of messages from many senders (sender ids verified by the server), one outcome row per request (message, or error code, message and retry_after), in request order; never raises for one request; synchronous_commit off. Executable by trollcity_server only.';
--! EndIncluded chat/send_chat_messages.sql
