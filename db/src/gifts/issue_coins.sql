create or replace function app_private.issue_coins(user_id uuid, coins bigint, kind text, reference text default null, note text default null)
  returns table (coin_transaction_id bigint, duplicate boolean, balance bigint)
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
declare
  v_tx bigint;
  v_balance bigint;
begin
  if issue_coins.coins is null or issue_coins.coins not between 1 and 100000000 then
    raise exception 'coins to issue must be between 1 and 100000000, got %', issue_coins.coins using errcode = 'BADIN';
  end if;
  if not exists (select 1 from app_public.users u where u.id = issue_coins.user_id) then
    raise exception 'user % not found', issue_coins.user_id using errcode = 'NOFND';
  end if;
  insert into app_private.coin_transactions (kind, debit_account, credit_account, credit_user_id, amount, reference, note)
    values (issue_coins.kind, 'issuer', 'user', issue_coins.user_id, issue_coins.coins, issue_coins.reference, issue_coins.note)
    on conflict (kind, reference) where reference is not null do nothing
    returning id into v_tx;
  if v_tx is null then
    select t.id into v_tx from app_private.coin_transactions t where t.kind = issue_coins.kind and t.reference = issue_coins.reference;
    select w.balance into v_balance from app_private.wallets w where w.user_id = issue_coins.user_id;
    return query select v_tx, true, coalesce(v_balance, 0::bigint);
    return;
  end if;
  insert into app_private.wallets as w (user_id, balance) values (issue_coins.user_id, issue_coins.coins)
    on conflict (user_id) do update set balance = w.balance + excluded.balance, updated_at = now()
    returning w.balance into v_balance;
  return query select v_tx, false, v_balance;
end;
$$;
revoke all on function app_private.issue_coins(user_id uuid, coins bigint, kind text, reference text, note text) from public, anon, authenticated;
comment on function app_private.issue_coins(user_id uuid, coins bigint, kind text, reference text, note text) is
  'Credits new coins (issuer -> user). Idempotent per (kind, reference): a repeat returns the first transaction with duplicate = true.';
