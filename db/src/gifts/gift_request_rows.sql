create or replace function app_private.gift_request_rows(requests jsonb)
  returns table (ord integer, sender_id uuid, stream_raw text, stream_uuid uuid, gift_raw text, gift_uuid uuid, qty_raw text, qty integer,
                 idem_key text, u_id uuid, username text, display_name text, avatar_url text, is_banned boolean,
                 s_id uuid, s_status text, broadcaster_id uuid, g_id uuid, slug text, g_name text, art_url text, coin_price integer,
                 active boolean, w_balance bigint, l_id bigint, l_stream uuid, l_gift uuid, l_qty integer, l_coins bigint,
                 l_created timestamptz, srank bigint, kgroup integer)
  language sql stable
as $$
  -- send_gifts' requests, parsed (malformed ids and quantities become nulls, decided by send_gifts) and
  -- joined with what its rules read: sender, stream, gift, wallet, and the ledger row a key names.
  -- srank numbers the senders, kgroup names each (sender, key) group by its first request. One
  -- SELECT without SET or SECURITY DEFINER, so the planner inlines it into both of send_gifts' queries.
  select q.ord, q.sender_id, q.stream_raw, q.stream_uuid, q.gift_raw, q.gift_uuid, q.qty_raw,
         case when q.qty_raw ~ '^-?[0-9]{1,9}$' then q.qty_raw::integer end,
         q.idem_key, u.id, u.username, u.display_name, u.avatar_url, u.is_banned,
         s.id, s.status, s.broadcaster_id, g.id, g.slug, g.name, g.art_url, g.coin_price, g.active,
         w.balance, l.id, l.stream_id, l.gift_id, l.quantity, l.coins, l.created_at,
         dense_rank() over (order by q.sender_id),
         (first_value(q.ord) over (partition by q.sender_id, q.idem_key order by q.ord))::integer
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
$$;
revoke all on function app_private.gift_request_rows(requests jsonb) from public, anon, authenticated;
comment on function app_private.gift_request_rows(requests jsonb) is
  'send_gifts'' requests parsed and joined with the rows its rules read (one definition for both of its queries).';
