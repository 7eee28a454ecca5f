-- Issue 12, the web app: coin packs sold through Stripe Checkout, refunds and chargebacks that claw
-- coins back (a shortfall is a wallet debt), wallet history, token renewal, site-wide bans, the admin
-- console's reads and the welcome grant setting. Re-runnable: what this file creates is dropped first.

drop function if exists app_public.admin_users(text);
drop function if exists app_public.admin_moderation_log();
drop function if exists app_public.admin_failed_gifts();
drop function if exists app_public.admin_livekit_failures();
drop function if exists app_public.my_coin_transactions();
drop type if exists app_public.admin_user;
drop type if exists app_public.moderation_log_entry;
drop type if exists app_public.failed_gift;
drop type if exists app_public.livekit_failure;
drop type if exists app_public.wallet_entry;

-- The coin pack catalogue (what the wallet page sells).
create table if not exists app_public.coin_packs (
  id uuid primary key default gen_random_uuid(),
  slug text not null unique check (slug ~ '^[a-z][a-z0-9-]{1,40}$'),
  name text not null check (char_length(name) between 1 and 60),
  coins integer not null check (coins between 1 and 10000000),
  price_cents integer not null check (price_cents between 50 and 1000000),
  currency text not null default 'USD' check (currency ~ '^[A-Z]{3}$'),
  active boolean not null default true,
  sort integer not null default 0,
  created_at timestamptz not null default now()
);
alter table app_public.coin_packs enable row level security;
alter table app_public.coin_packs force row level security;
comment on table app_public.coin_packs is 'Coin packs for sale through Stripe Checkout (the operator edits this catalogue).';
comment on column app_public.coin_packs.slug is 'Stable name of the pack, used by the checkout form.';
comment on column app_public.coin_packs.coins is 'Coins credited when the pack is paid.';
comment on column app_public.coin_packs.price_cents is 'Price in the currency''s minor unit (cents).';
comment on column app_public.coin_packs.currency is 'ISO 4217 currency code (upper case).';
comment on column app_public.coin_packs.active is 'Only active packs are listed and sold.';

-- Checkout Sessions this server opened: fulfilment credits what was sold, not what a webhook claims.
create table if not exists app_private.checkout_sessions (
  id text primary key check (char_length(id) between 1 and 200),
  user_id uuid not null references app_public.users (id) on delete cascade,
  pack_id uuid not null references app_public.coin_packs (id),
  coins integer not null check (coins > 0),
  amount_cents integer not null check (amount_cents >= 0),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  status text not null default 'open' check (status in ('open', 'paid', 'refunded', 'disputed')),
  payment_intent text unique,
  coins_clawed bigint not null default 0 check (coins_clawed between 0 and coins),
  created_at timestamptz not null default now(),
  fulfilled_at timestamptz
);
create index if not exists coin_packs_sort_idx on app_public.coin_packs (sort);
create index if not exists checkout_sessions_user_id_idx on app_private.checkout_sessions (user_id);
comment on table app_private.checkout_sessions is 'Stripe Checkout Sessions opened by the server, with the pack as sold, fulfilment and clawback state.';

-- Every Stripe event handled, once (the webhook is idempotent on the event id).
create table if not exists app_private.stripe_events (
  event_id text primary key check (char_length(event_id) between 1 and 200),
  type text not null,
  received_at timestamptz not null default now()
);
comment on table app_private.stripe_events is 'Stripe webhook events already handled (idempotency on the event id).';

-- Coins a refund or chargeback could not take back because they were already spent.
create table if not exists app_private.wallet_debts (
  id bigint generated always as identity primary key,
  user_id uuid not null references app_public.users (id) on delete cascade,
  outstanding bigint not null check (outstanding >= 0),
  original bigint not null check (original > 0 and outstanding <= original),
  reason text not null,
  reference text not null unique,
  created_at timestamptz not null default now(),
  settled_at timestamptz
);
create index if not exists wallet_debts_open_idx on app_private.wallet_debts (user_id, created_at) where outstanding > 0;
comment on table app_private.wallet_debts is 'Coins owed after a refund or chargeback found the balance short; settled from the user''s next purchases first.';

alter table app_private.coin_transactions drop constraint if exists coin_transactions_kind_check;
alter table app_private.coin_transactions add constraint coin_transactions_kind_check check (kind = any (array[
  'purchase', 'grant', 'gift_settlement', 'gift_fee', 'gift_refund', 'gift_reversal', 'gift_fee_reversal',
  'purchase_reversal', 'debt_settlement']));

-- Site-wide bans are logged with the stream-level actions (stream null).
alter table app_public.moderation_actions alter column stream_id drop not null;
alter table app_public.moderation_actions drop constraint if exists moderation_actions_action_check;
alter table app_public.moderation_actions add constraint moderation_actions_action_check check (action = any (array[
  'mute', 'unmute', 'ban', 'unban', 'delete_message', 'slow_mode', 'site_ban', 'site_unban']));
alter table app_public.moderation_actions drop constraint if exists moderation_actions_site_check;
alter table app_public.moderation_actions add constraint moderation_actions_site_check
  check ((stream_id is null) = (action in ('site_ban', 'site_unban')));

insert into app_private.settings (key, value) values ('welcome_coins', '0') on conflict (key) do nothing;

create type app_public.wallet_entry as (
  id bigint,
  created_at timestamptz,
  kind text,
  amount bigint,
  description text
);
comment on type app_public.wallet_entry is 'One line of the caller''s wallet history; amount is signed (negative: coins left the wallet).';
create type app_public.admin_user as (
  id uuid,
  username text,
  display_name text,
  email text,
  role app_public.app_role,
  is_banned boolean,
  balance bigint,
  created_at timestamptz
);
comment on type app_public.admin_user is 'A user as the admin console shows them (with e-mail and balance).';
create type app_public.moderation_log_entry as (
  id bigint,
  created_at timestamptz,
  action text,
  stream_id uuid,
  stream_title text,
  actor_username text,
  target_username text,
  reason text
);
comment on type app_public.moderation_log_entry is 'One moderation action, with the names the log shows (stream null: site-wide).';
create type app_public.failed_gift as (
  id bigint,
  created_at timestamptz,
  status text,
  batch_id bigint,
  sender_username text,
  receiver_username text,
  coins bigint
);
comment on type app_public.failed_gift is 'A gift settlement did not settle (refunded to the sender).';
create type app_public.livekit_failure as (
  stream_id uuid,
  stream_title text,
  username text,
  can_publish boolean,
  attempts integer,
  last_error text,
  updated_at timestamptz
);
comment on type app_public.livekit_failure is 'A LiveKit seat enforcement that keeps failing.';

--!include gifts/coin_packs.access.sql
--!include accounts/register.sql
--!include accounts/tg_users__identity.sql
--!include accounts/renew_token.sql
--!include accounts/ban_site_user.sql
--!include accounts/unban_site_user.sql
--!include admin/require_staff.sql
--!include admin/admin_users.sql
--!include admin/admin_moderation_log.sql
--!include admin/admin_failed_gifts.sql
--!include admin/admin_livekit_failures.sql
--!include gifts/my_coin_transactions.sql
--!include gifts/settle_wallet_debts.sql
--!include gifts/checkout_pack.sql
--!include gifts/record_checkout_session.sql
--!include gifts/fulfil_checkout.sql
--!include gifts/claw_back_payment.sql
