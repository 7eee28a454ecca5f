create or replace function app_private.settle_wallet_debts(user_id uuid) returns bigint
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_debt record;
  v_balance bigint;
  v_take bigint;
  v_total bigint := 0;
begin
  select w.balance into v_balance from app_private.wallets w where w.user_id = settle_wallet_debts.user_id for update;
  for v_debt in
    select d.id, d.outstanding from app_private.wallet_debts d
     where d.user_id = settle_wallet_debts.user_id and d.outstanding > 0
     order by d.created_at, d.id
     for update
  loop
    exit when coalesce(v_balance, 0) <= 0;
    v_take := least(v_balance, v_debt.outstanding);
    insert into app_private.coin_transactions (kind, debit_account, debit_user_id, credit_account, amount, reference, note)
      values ('debt_settlement', 'user', settle_wallet_debts.user_id, 'issuer', v_take, null, format('wallet debt %s', v_debt.id));
    update app_private.wallets w set balance = w.balance - v_take, updated_at = now() where w.user_id = settle_wallet_debts.user_id;
    update app_private.wallet_debts d
       set outstanding = d.outstanding - v_take,
           settled_at = case when d.outstanding - v_take = 0 then now() end
     where d.id = v_debt.id;
    v_balance := v_balance - v_take;
    v_total := v_total + v_take;
  end loop;
  return v_total;
end;
$$;
revoke all on function app_private.settle_wallet_debts(user_id uuid) from public, anon, authenticated;
comment on function app_private.settle_wallet_debts(user_id uuid) is
  'Pays the user''s open wallet debts (oldest first) from their balance: each payment moves coins user -> issuer (debt_settlement), so no coin is created or destroyed. Returns the coins paid. Called after every purchase.';
