create or replace function app_private.record_checkout_session(session_id text, user_id uuid, pack_id uuid) returns void
  language sql volatile
  set search_path = pg_catalog, pg_temp
as $$
  insert into app_private.checkout_sessions (id, user_id, pack_id, coins, amount_cents, currency)
  select record_checkout_session.session_id, record_checkout_session.user_id, p.id, p.coins, p.price_cents, p.currency
    from app_public.coin_packs p where p.id = record_checkout_session.pack_id
  on conflict (id) do nothing;
$$;
revoke all on function app_private.record_checkout_session(session_id text, user_id uuid, pack_id uuid) from public, anon, authenticated;
comment on function app_private.record_checkout_session(session_id text, user_id uuid, pack_id uuid) is
  'Remembers an open Stripe Checkout Session with the pack''s coins and price as sold: fulfilment credits these, never what the webhook says.';
