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
  c_uuid constant text := '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
  v_fee_bps integer := app_private.gift_setting('gift_fee_bps', 2000);
  v_n integer;
  r record;
  v_coins bigint;
  v_id bigint;
  v_j integer;
  v_k integer := 0;
  v_inserted integer;
  -- Per sender (dense rank in the batch): running balance, and whether it was initialised.
  s_balance bigint[] := '{}';
  s_seen boolean[] := '{}';
  -- Per idempotency group (first request of that sender and key): the request that was accepted.
  k_accepted integer[] := '{}';
  -- Per request: the outcome.
  o_id bigint[] := '{}';
  o_stream uuid[] := '{}';
  o_gift uuid[] := '{}';
  o_qty integer[] := '{}';
  o_coins bigint[] := '{}';
  o_status text[] := '{}';
  o_balance bigint[] := '{}';
  o_replayed boolean[] := '{}';
  o_created timestamptz[] := '{}';
  o_code text[] := '{}';
  o_message text[] := '{}';
  -- The accepted gifts, inserted together after the loop.
  a_id bigint[] := '{}';
  a_sender uuid[] := '{}';
  a_receiver uuid[] := '{}';
  a_stream uuid[] := '{}';
  a_gift uuid[] := '{}';
  a_qty integer[] := '{}';
  a_price integer[] := '{}';
  a_coins bigint[] := '{}';
  a_fee bigint[] := '{}';
  a_key text[] := '{}';
  a_payload jsonb[] := '{}';
begin
  if jsonb_typeof(requests) is distinct from 'array' then
    raise exception 'send_gifts takes a JSON array of requests' using errcode = 'BADIN';
  end if;
  v_n := jsonb_array_length(requests);
  if v_n = 0 then
    return;
  end if;
  -- Every array indexed by request or rank is sized to the batch (1-based, so unnest lines them up).
  s_balance := array_fill(null::bigint, array[v_n]);
  s_seen := array_fill(null::boolean, array[v_n]);
  k_accepted := array_fill(null::integer, array[v_n]);
  o_id := array_fill(null::bigint, array[v_n]);
  o_stream := array_fill(null::uuid, array[v_n]);
  o_gift := array_fill(null::uuid, array[v_n]);
  o_qty := array_fill(null::integer, array[v_n]);
  o_coins := array_fill(null::bigint, array[v_n]);
  o_status := array_fill(null::text, array[v_n]);
  o_balance := array_fill(null::bigint, array[v_n]);
  o_replayed := array_fill(null::boolean, array[v_n]);
  o_created := array_fill(null::timestamptz, array[v_n]);
  o_code := array_fill(null::text, array[v_n]);
  o_message := array_fill(null::text, array[v_n]);

  -- Sorted locks: every sender's wallet, in user id order (as settlement does), before anything is read.
  perform 1 from app_private.wallets w
   where w.user_id in (select (e ->> 'sender_id')::uuid from jsonb_array_elements(requests) e
                        where jsonb_typeof(e) = 'object' and e ->> 'sender_id' ~ c_uuid)
   order by w.user_id
   for update;

  for r in
    select q.*, u.id as u_id, u.username, u.display_name, u.avatar_url, u.is_banned,
           s.id as s_id, s.status as s_status, s.broadcaster_id,
           g.id as g_id, g.slug, g.name as g_name, g.art_url, g.coin_price, g.active,
           w.balance as w_balance,
           l.id as l_id, l.stream_id as l_stream, l.gift_id as l_gift, l.quantity as l_qty, l.coins as l_coins, l.created_at as l_created,
           dense_rank() over (order by q.sender_id) as srank,
           first_value(q.ord) over (partition by q.sender_id, q.idem_key order by q.ord) as kgroup
      from (
        select e.ord::integer as ord,
               case when e.r ->> 'sender_id' ~ c_uuid then (e.r ->> 'sender_id')::uuid end as sender_id,
               e.r ->> 'stream_id' as stream_raw,
               case when e.r ->> 'stream_id' ~ c_uuid then (e.r ->> 'stream_id')::uuid end as stream_uuid,
               e.r ->> 'gift_id' as gift_raw,
               case when e.r ->> 'gift_id' ~ c_uuid then (e.r ->> 'gift_id')::uuid end as gift_uuid,
               case when jsonb_typeof(e.r) = 'object' and not e.r ? 'quantity' then '1'
                    else e.r ->> 'quantity' end as qty_raw,
               e.r ->> 'idempotency_key' as idem_key
          from jsonb_array_elements(requests) with ordinality e(r, ord)
      ) q
      left join app_public.users u on u.id = q.sender_id
      left join app_public.streams s on s.id = q.stream_uuid
      left join app_public.gifts g on g.id = q.gift_uuid
      left join app_private.wallets w on w.user_id = q.sender_id
      left join app_private.gift_ledger l on l.sender_id = q.sender_id and l.idempotency_key = q.idem_key
     order by q.ord
  loop
    declare
      v_qty integer := case when r.qty_raw ~ '^-?[0-9]{1,9}$' then r.qty_raw::integer end;
    begin
      if not s_seen[r.srank] is true then
        s_seen[r.srank] := true;
        s_balance[r.srank] := r.w_balance;
      end if;
      if r.sender_id is null then
        o_code[r.ord] := 'NOAUT'; o_message[r.ord] := 'sign in to send gifts';
      elsif r.idem_key is not null and char_length(r.idem_key) not between 1 and 200 then
        o_code[r.ord] := 'BADIN'; o_message[r.ord] := 'idempotency key must be 1-200 characters';
      elsif r.idem_key is not null and r.l_id is not null then
        -- Replay of a gift committed before this batch (gift_receipt_for's rule).
        if (r.l_stream, r.l_gift, r.l_qty) is distinct from (r.stream_uuid, r.gift_uuid, v_qty) then
          o_code[r.ord] := 'IDEMP';
          o_message[r.ord] := format('idempotency key "%s" was already used for another gift (ledger entry %s)', r.idem_key, r.l_id);
        else
          o_id[r.ord] := r.l_id; o_stream[r.ord] := r.l_stream; o_gift[r.ord] := r.l_gift; o_qty[r.ord] := r.l_qty;
          o_coins[r.ord] := r.l_coins; o_status[r.ord] := (app_private.gift_status(r.l_id)).status;
          o_balance[r.ord] := s_balance[r.srank]; o_replayed[r.ord] := true; o_created[r.ord] := r.l_created;
        end if;
      elsif r.idem_key is not null and k_accepted[r.kgroup] is not null then
        -- Replay of a gift accepted earlier in this batch.
        v_j := k_accepted[r.kgroup];
        if (o_stream[v_j], o_gift[v_j], o_qty[v_j]) is distinct from (r.stream_uuid, r.gift_uuid, v_qty) then
          o_code[r.ord] := 'IDEMP';
          o_message[r.ord] := format('idempotency key "%s" was already used for another gift (ledger entry %s)', r.idem_key, o_id[v_j]);
        else
          o_id[r.ord] := o_id[v_j]; o_stream[r.ord] := o_stream[v_j]; o_gift[r.ord] := o_gift[v_j]; o_qty[r.ord] := o_qty[v_j];
          o_coins[r.ord] := o_coins[v_j]; o_status[r.ord] := 'pending';
          o_balance[r.ord] := s_balance[r.srank]; o_replayed[r.ord] := true; o_created[r.ord] := o_created[v_j];
        end if;
      elsif v_qty is null or v_qty not between 1 and 1000 then
        o_code[r.ord] := 'BADIN';
        o_message[r.ord] := format('quantity must be between 1 and 1000, got %s', coalesce(r.qty_raw, '<NULL>'));
      elsif r.u_id is null then
        o_code[r.ord] := 'NOAUT'; o_message[r.ord] := format('user %s no longer exists', r.sender_id);
      elsif r.is_banned then
        o_code[r.ord] := 'BANND'; o_message[r.ord] := format('user %s is banned', r.username);
      elsif r.s_id is null then
        o_code[r.ord] := 'NOFND'; o_message[r.ord] := format('stream %s not found', coalesce(r.stream_raw, '<NULL>'));
      elsif r.s_status <> 'live' then
        o_code[r.ord] := 'NLIVE'; o_message[r.ord] := format('stream %s is not live', r.s_id);
      elsif r.broadcaster_id = r.sender_id then
        o_code[r.ord] := 'DENYD';
        o_message[r.ord] := format('user %s cannot send gifts to their own stream %s', r.username, r.s_id);
      elsif r.g_id is null then
        o_code[r.ord] := 'NOFND'; o_message[r.ord] := format('gift %s not found', coalesce(r.gift_raw, '<NULL>'));
      elsif not r.active then
        o_code[r.ord] := 'BADIN'; o_message[r.ord] := format('gift "%s" is no longer available', r.g_name);
      else
        v_coins := r.coin_price::bigint * v_qty;
        if s_balance[r.srank] is null or s_balance[r.srank] < v_coins then
          o_code[r.ord] := 'INSFD';
          o_message[r.ord] := format('insufficient funds: %s × "%s" costs %s coins, user %s has %s', v_qty, r.g_name, v_coins,
                                     r.username, coalesce(s_balance[r.srank], 0));
        else
          -- Accepted: the id is taken now so later requests in the batch can name it.
          s_balance[r.srank] := s_balance[r.srank] - v_coins;
          v_id := nextval('app_private.gift_ledger_id_seq');
          v_k := v_k + 1;
          a_id[v_k] := v_id; a_sender[v_k] := r.sender_id; a_receiver[v_k] := r.broadcaster_id; a_stream[v_k] := r.s_id;
          a_gift[v_k] := r.g_id; a_qty[v_k] := v_qty; a_price[v_k] := r.coin_price; a_coins[v_k] := v_coins;
          a_fee[v_k] := v_coins * v_fee_bps / 10000; a_key[v_k] := r.idem_key;
          a_payload[v_k] := jsonb_build_object(
            'type', 'gift',
            'id', v_id,
            'stream_id', r.s_id,
            'receiver_id', r.broadcaster_id,
            'sender', jsonb_build_object('id', r.sender_id, 'username', r.username,
                                         'display_name', r.display_name, 'avatar_url', r.avatar_url),
            'gift', jsonb_build_object('id', r.g_id, 'slug', r.slug, 'name', r.g_name,
                                       'art_url', r.art_url, 'coin_price', r.coin_price),
            'quantity', v_qty,
            'coins', v_coins,
            'sent_at', now());
          if r.idem_key is not null then
            k_accepted[r.kgroup] := r.ord;
          end if;
          o_id[r.ord] := v_id; o_stream[r.ord] := r.s_id; o_gift[r.ord] := r.g_id; o_qty[r.ord] := v_qty;
          o_coins[r.ord] := v_coins; o_status[r.ord] := 'pending'; o_balance[r.ord] := s_balance[r.srank];
          o_replayed[r.ord] := false; o_created[r.ord] := now();
        end if;
      end if;
    end;
  end loop;

  if v_k > 0 then
    -- The holds (sender -> escrow); the trigger queues each for settlement.
    insert into app_private.gift_ledger (id, sender_id, receiver_id, stream_id, gift_id, quantity, unit_price, coins, fee_coins, idempotency_key)
      overriding system value
    select * from unnest(a_id, a_sender, a_receiver, a_stream, a_gift, a_qty, a_price, a_coins, a_fee, a_key)
    on conflict (sender_id, idempotency_key) where idempotency_key is not null do nothing;
    get diagnostics v_inserted = row_count;
    if v_inserted <> v_k then
      -- A key committed by someone who did not hold the wallet lock (cannot happen while every writer
      -- debits first): fail the batch; the server retries each request alone, and the replay is found.
      raise exception 'idempotency key committed concurrently' using errcode = '40001';
    end if;
    -- The debits: one update per sender (the rows are locked already).
    update app_private.wallets w set balance = w.balance - d.coins, updated_at = now()
      from (select x.sender_id, sum(x.coins)::bigint as coins from unnest(a_sender, a_coins) x(sender_id, coins) group by x.sender_id) d
     where w.user_id = d.sender_id;
    -- One outbox event per gift, in request order (what app_private.publish_stream_event inserts).
    insert into app_private.stream_events (stream_id, kind, payload)
    select x.stream_id, 'gift', x.payload from unnest(a_stream, a_payload) with ordinality x(stream_id, payload, i) order by x.i;
  end if;

  return query
    select i, o_id[i], o_stream[i], o_gift[i], o_qty[i], o_coins[i], o_status[i], o_balance[i], o_replayed[i],
           to_char(o_created[i], 'YYYY-MM-DD"T"HH24:MI:SS.USTZH:TZM'), o_code[i], o_message[i], null::numeric
      from generate_series(1, v_n) i;
end;
$$;
revoke all on function app_private.send_gifts(requests jsonb) from public, anon, authenticated;
grant execute on function app_private.send_gifts(requests jsonb) to trollcity_server;
comment on function app_private.send_gifts(requests jsonb) is
  'Group commit for gifts: app_public.send_gift''s rules for a batch of requests from many senders (sender ids verified by the server), one outcome row per request (receipt, or error code and message), in request order; never raises for one request. Executable by trollcity_server only.';
