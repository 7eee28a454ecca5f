create or replace function app_private.claw_back_payment(event_id text, event_type text, payment_intent text, amount_cents bigint)
  returns table (clawed bigint, debt bigint, balance bigint, duplicate boolean)
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
declare
  v_session app_private.checkout_sessions;
  v_target bigint;
  v_owed bigint;
  v_balance bigint;
  v_take bigint;
begin
  if event_type not in ('charge.refunded', 'charge.dispute.created') then
    raise exception 'event type % does not claw coins back', event_type using errcode = 'BADIN';
  end if;
  select * into v_session from app_private.checkout_sessions s where s.payment_intent = claw_back_payment.payment_intent for update;
  if v_session.id is null then
    raise exception 'no fulfilled checkout session for payment %', payment_intent using errcode = 'NOFND';
  end if;
  insert into app_private.stripe_events (event_id, type) values (claw_back_payment.event_id, claw_back_payment.event_type)
    on conflict do nothing;
  if not found then
    select w.balance into v_balance from app_private.wallets w where w.user_id = v_session.user_id;
    return query select 0::bigint, 0::bigint, coalesce(v_balance, 0::bigint), true;
    return;
  end if;
  -- The coins this payment's reversals cover so far (a refund's amount is cumulative), proportional
  -- to the money given back and never more than the pack's coins.
  v_target := case when v_session.amount_cents > 0
                   then least(v_session.coins, ceil(v_session.coins::numeric * greatest(amount_cents, 0) / v_session.amount_cents)::bigint)
                   else v_session.coins end;
  v_owed := greatest(v_target - v_session.coins_clawed, 0);
  select w.balance into v_balance from app_private.wallets w where w.user_id = v_session.user_id for update;
  v_balance := coalesce(v_balance, 0);
  v_take := least(v_balance, v_owed);
  if v_take > 0 then
    insert into app_private.coin_transactions (kind, debit_account, debit_user_id, credit_account, amount, reference, note)
      values ('purchase_reversal', 'user', v_session.user_id, 'issuer', v_take, 'stripe:' || claw_back_payment.event_id,
              format('%s for checkout session %s', event_type, v_session.id));
    update app_private.wallets w set balance = w.balance - v_take, updated_at = now() where w.user_id = v_session.user_id;
  end if;
  if v_owed - v_take > 0 then
    insert into app_private.wallet_debts (user_id, outstanding, original, reason, reference)
      values (v_session.user_id, v_owed - v_take, v_owed - v_take, event_type, 'stripe:' || claw_back_payment.event_id);
  end if;
  update app_private.checkout_sessions s
     set coins_clawed = s.coins_clawed + v_owed,
         status = case when event_type = 'charge.dispute.created' then 'disputed' else 'refunded' end
   where s.id = v_session.id;
  return query select v_take, v_owed - v_take, v_balance - v_take, false;
end;
$$;
revoke all on function app_private.claw_back_payment(event_id text, event_type text, payment_intent text, amount_cents bigint) from public, anon, authenticated;
comment on function app_private.claw_back_payment(event_id text, event_type text, payment_intent text, amount_cents bigint) is
  'A refund (charge.refunded, cumulative amount_refunded) or chargeback (charge.dispute.created, disputed amount) takes the purchase''s coins back in proportion to the money returned: from the balance as far as it goes (user -> issuer, purchase_reversal), the rest recorded in app_private.wallet_debts and settled from the next purchases. No coin is created or destroyed. Idempotent on the event id. Errors: NOFND (payment not ours), BADIN.';
