--! Previous: sha1:78bdbea7aa1775a5cc181964a6345b2a3b788f7c
--! Hash: sha1:0537bb165d04e0dd0a94df40954599c249451506
--! Message: The write path's database cost: send_gifts' request rows in plpgsql with a lateral key probe (a SQL function was planned on every call), settlement queueing as one statement trigger

--! split: 960-write-path-cost.sql
-- The write path's database cost (issue 14): send_gifts' request rows in plpgsql (a SQL function that
-- is not inlined is planned again on every call), and settlement queueing as one statement trigger
-- over the inserted rows instead of a row trigger per gift.
drop trigger if exists _300_queue_for_settlement on app_private.gift_ledger;
--! Included gifts/tg_gift_ledger__queue.sql
create or replace function app_private.tg_gift_ledger__queue() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
begin
  -- A statement trigger over the inserted rows (transition table new_rows): one insert per statement,
  -- not one trigger call and one insert per gift (a batch of 60 gifts: ~8 % less database time).
  insert into app_private.gift_settlement_queue (gift_ledger_id, sender_id, receiver_id, stream_id, quantity, coins, fee_coins, created_at)
  select n.id, n.sender_id, n.receiver_id, n.stream_id, n.quantity, n.coins, n.fee_coins, n.created_at
    from new_rows n;
  return null;
end;
$$;
revoke all on function app_private.tg_gift_ledger__queue() from public, anon, authenticated;
comment on function app_private.tg_gift_ledger__queue() is
  'Queues every appended gift for settlement, in the same transaction (statement trigger, transition table new_rows).';
--! EndIncluded gifts/tg_gift_ledger__queue.sql
create trigger _300_queue_for_settlement after insert on app_private.gift_ledger
  referencing new table as new_rows
  for each statement execute function app_private.tg_gift_ledger__queue();
--! Included gifts/gift_request_rows.sql
create or replace function app_private.gift_request_rows(requests jsonb)
  returns setof app_private.gift_request
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
begin
  return query
  -- send_gifts' requests, parsed (malformed ids and quantities become nulls, decided by send_gifts) and
  -- joined with what its rules read: sender, stream, gift, wallet, and the ledger row a key names.
  -- srank numbers the senders (sfirst: the sender's first request), kgroup names each (sender, key)
  -- group by its first request. The checks that depend on no other request are here, in send_gift's
  -- order: pre_code before the idempotency replay (sign-in, key length), check_code after it
  -- (quantity, sender, stream, gift), each with send_gift's message; send_gifts decides the rest (replays,
  -- funds) in request order. The quantity cap is the gift_max_quantity setting. plpgsql, not SQL: a SQL
  -- function that is not inlined is planned again on every call (2-3 ms per batch, most of a small
  -- batch's time); plpgsql keeps the plan for the session.
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
    -- The key lookup is a lateral index probe (limit 1 keeps the planner from flattening it): the plan
    -- is kept for the session, and one made while the ledger was small scanned all of it, growing, for
    -- every batch (6.5 ms per batch of 63 after a few seconds of load, against 2.3 ms).
    -- (the not-null test lets the planner use the partial unique index on (sender_id, idempotency_key))
    left join lateral (select l.* from app_private.gift_ledger l
                        where l.sender_id = q.sender_id and l.idempotency_key = q.idem_key and l.idempotency_key is not null
                        limit 1) l on true
  ) c;
end;
$$;
revoke all on function app_private.gift_request_rows(requests jsonb) from public, anon, authenticated;
comment on function app_private.gift_request_rows(requests jsonb) is
  'send_gifts'' requests parsed and joined with the rows its rules read (one definition for both of its queries).';
--! EndIncluded gifts/gift_request_rows.sql
