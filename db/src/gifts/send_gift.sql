create or replace function app_public.send_gift(stream_id uuid, gift_id uuid, quantity integer default 1, idempotency_key text default null)
  returns app_public.gift_receipt
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
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
