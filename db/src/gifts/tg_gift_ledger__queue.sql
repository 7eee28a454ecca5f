create or replace function app_private.tg_gift_ledger__queue() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
begin
  insert into app_private.gift_settlement_queue (gift_ledger_id, sender_id, receiver_id, stream_id, quantity, coins, fee_coins, created_at)
    values (new.id, new.sender_id, new.receiver_id, new.stream_id, new.quantity, new.coins, new.fee_coins, new.created_at);
  return null;
end;
$$;
revoke all on function app_private.tg_gift_ledger__queue() from public, anon, authenticated;
comment on function app_private.tg_gift_ledger__queue() is
  'Queues every appended gift for settlement, in the same transaction.';
