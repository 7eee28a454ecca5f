create or replace function app_private.purchase_coins(provider text, provider_event_id text, user_id uuid, coins integer,
                                           amount_cents integer default null, currency text default null, payload jsonb default '{}')
  returns table (coin_transaction_id bigint, duplicate boolean, balance bigint)
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
declare
  v_issued record;
begin
  if provider is null or provider !~ '^[a-z][a-z0-9_-]{1,30}$' then
    raise exception 'payment provider name "%" is invalid', provider using errcode = 'BADIN';
  end if;
  if provider_event_id is null or char_length(provider_event_id) not between 1 and 200 then
    raise exception 'payment event id must be 1-200 characters' using errcode = 'BADIN';
  end if;
  select * into v_issued
    from app_private.issue_coins(purchase_coins.user_id, purchase_coins.coins, 'purchase',
                                 purchase_coins.provider || ':' || purchase_coins.provider_event_id,
                                 'payment ' || purchase_coins.provider || ' ' || purchase_coins.provider_event_id);
  if not v_issued.duplicate then
    insert into app_private.payment_events (provider, event_id, user_id, coins, amount_cents, currency, payload, coin_transaction_id)
      values (purchase_coins.provider, purchase_coins.provider_event_id, purchase_coins.user_id, purchase_coins.coins,
              purchase_coins.amount_cents, purchase_coins.currency, coalesce(purchase_coins.payload, '{}'), v_issued.coin_transaction_id);
  end if;
  return query select v_issued.coin_transaction_id, v_issued.duplicate, v_issued.balance;
end;
$$;
revoke all on function app_private.purchase_coins(provider text, provider_event_id text, user_id uuid, coins integer, amount_cents integer, currency text, payload jsonb) from public, anon, authenticated;
comment on function app_private.purchase_coins(provider text, provider_event_id text, user_id uuid, coins integer, amount_cents integer, currency text, payload jsonb) is
  'Credits purchased coins for a verified payment-provider event; idempotent on (provider, event id). Called by the webhook route only.';
