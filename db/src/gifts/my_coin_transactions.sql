create or replace function app_public.my_coin_transactions()
  returns setof app_public.wallet_entry
  language plpgsql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_me app_public.users := app_private.require_user();
begin
  return query
    select t.id, t.created_at, t.kind,
           case when t.credit_user_id = v_me.id then t.amount else -t.amount end,
           case t.kind
             when 'purchase' then 'Bought coins'
             when 'grant' then coalesce(nullif(regexp_replace(t.note, '^by [0-9a-f-]+: ', ''), ''), 'Coins granted')
             when 'gift_settlement' then 'Gifts received'
             when 'gift_refund' then 'Gift refunded'
             when 'gift_reversal' then 'Gift reversed'
             when 'purchase_reversal' then 'Purchase refunded or disputed'
             when 'debt_settlement' then 'Paid towards a refund debt'
             else t.kind
           end
      from app_private.coin_transactions t
     where t.credit_user_id = v_me.id or t.debit_user_id = v_me.id
    union all
    -- Gifts sent are holds in the gift ledger (sender -> escrow), not coin transactions.
    select -g.id, g.created_at, 'gift_sent', -g.coins, format('Sent %s × %s', g.quantity, gf.name)
      from app_private.gift_ledger g
      join app_public.gifts gf on gf.id = g.gift_id
     where g.sender_id = v_me.id
    order by 2 desc, 1 desc
    limit 100;
end;
$$;
revoke all on function app_public.my_coin_transactions() from public, anon, authenticated;
grant execute on function app_public.my_coin_transactions() to authenticated;
comment on function app_public.my_coin_transactions() is
  'The signed-in user''s wallet history, newest first: purchases, grants, gifts sent and received, refunds and clawbacks; `amount` is signed (negative: coins left the wallet). Errors: NOAUT, BANND.';
