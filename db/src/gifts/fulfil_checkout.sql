create or replace function app_private.fulfil_checkout(event_id text, session_id text, payment_intent text, payload jsonb default '{}')
  returns table (coin_transaction_id bigint, duplicate boolean, balance bigint, debt_paid bigint)
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
declare
  v_session app_private.checkout_sessions;
  v_issued record;
  v_paid bigint := 0;
begin
  select * into v_session from app_private.checkout_sessions s where s.id = fulfil_checkout.session_id for update;
  if v_session.id is null then
    raise exception 'checkout session % was not opened by this server', session_id using errcode = 'NOFND';
  end if;
  insert into app_private.stripe_events (event_id, type) values (fulfil_checkout.event_id, 'checkout.session.completed')
    on conflict do nothing;
  -- Idempotent on the session (purchase_coins is keyed on it) as well as on the event id.
  select * into v_issued
    from app_private.purchase_coins('stripe', v_session.id, v_session.user_id, v_session.coins,
                                    v_session.amount_cents, v_session.currency, coalesce(payload, '{}'));
  if not v_issued.duplicate then
    update app_private.checkout_sessions s
       set status = 'paid', payment_intent = fulfil_checkout.payment_intent, fulfilled_at = now()
     where s.id = v_session.id;
    -- Coins owed from an earlier refund or chargeback are paid first.
    v_paid := app_private.settle_wallet_debts(v_session.user_id);
  end if;
  return query select v_issued.coin_transaction_id, v_issued.duplicate, v_issued.balance - v_paid, v_paid;
end;
$$;
revoke all on function app_private.fulfil_checkout(event_id text, session_id text, payment_intent text, payload jsonb) from public, anon, authenticated;
comment on function app_private.fulfil_checkout(event_id text, session_id text, payment_intent text, payload jsonb) is
  'Credits a paid Stripe Checkout Session''s coins (as recorded when it was opened), once: idempotent on the session and the event id. Open wallet debts are settled from the new coins first. Called by the webhook route only. Errors: NOFND (unknown session).';
