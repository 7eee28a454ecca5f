create or replace function app_private.gift_receipt_for(g app_private.gift_ledger, stream_id uuid, gift_id uuid, quantity integer)
  returns app_public.gift_receipt
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
begin
  if (g.stream_id, g.gift_id, g.quantity) is distinct from (gift_receipt_for.stream_id, gift_receipt_for.gift_id, gift_receipt_for.quantity) then
    raise exception 'idempotency key "%" was already used for another gift (ledger entry %)', g.idempotency_key, g.id
      using errcode = 'IDEMP';
  end if;
  return row(g.id, g.stream_id, g.gift_id, g.quantity, g.coins, (app_private.gift_status(g.id)).status,
             (select w.balance from app_private.wallets w where w.user_id = g.sender_id), true, g.created_at)::app_public.gift_receipt;
end;
$$;
revoke all on function app_private.gift_receipt_for(g app_private.gift_ledger, stream_id uuid, gift_id uuid, quantity integer) from public, anon, authenticated;
comment on function app_private.gift_receipt_for(g app_private.gift_ledger, stream_id uuid, gift_id uuid, quantity integer) is
  'Receipt for a replayed send_gift request; IDEMP when the key was used with other arguments.';
