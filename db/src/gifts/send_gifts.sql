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
