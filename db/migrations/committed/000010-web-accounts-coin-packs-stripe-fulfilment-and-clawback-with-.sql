--! Previous: sha1:1eda3f0d7cc0bb04a3c3e704dc675fcdc40f3da1
--! Hash: sha1:292ae59ee64f933a7727e9eee7bf6ba3ebd456f3
--! Message: Web accounts: coin packs, Stripe fulfilment and clawback with wallet debts, token renewal, site-wide bans, admin reads

--! split: 600-web-accounts.sql
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

--! Included gifts/coin_packs.access.sql
-- The coin pack catalogue is public (the wallet page lists the active packs); only the operator edits it.
drop policy if exists select_active on app_public.coin_packs;
create policy select_active on app_public.coin_packs for select
  using (active);
revoke all on table app_public.coin_packs from public, anon, authenticated;
grant select on table app_public.coin_packs to anon, authenticated;
--! EndIncluded gifts/coin_packs.access.sql
--! Included accounts/register.sql
create or replace function app_public.register(username text, email text, password text) returns text
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_user_id uuid;
  v_hash text;
  v_welcome integer;
begin
  if username is null or username !~ '^[A-Za-z][A-Za-z0-9_]{2,23}$' then
    raise exception 'username must be a letter followed by 2-23 letters, digits or underscores' using errcode = 'BADIN';
  end if;
  if email is null or email !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' or not app_hidden.is_clean_line(email) then
    raise exception 'email is not a valid address' using errcode = 'BADIN';
  end if;
  -- Password policy: 10 characters at least, at most 72 bytes (bcrypt ignores the rest), not the
  -- username or the e-mail address (or its part before the @).
  if password is null or char_length(password) < 10 then
    raise exception 'password must be at least 10 characters' using errcode = 'BADIN';
  end if;
  if octet_length(password) > 72 then
    raise exception 'password must be at most 72 bytes' using errcode = 'BADIN';
  end if;
  if lower(password) in (lower(username), lower(email), lower(split_part(email, '@', 1))) then
    raise exception 'password must not be the username or the e-mail address' using errcode = 'BADIN';
  end if;
  -- bcrypt cost 10 (about 50-100 ms), computed before the availability checks so that a taken
  -- username or e-mail answers no faster than a new account.
  v_hash := public.crypt(password, public.gen_salt('bf', 10));
  -- One answer for a taken username and a taken e-mail address: the error does not say which.
  if exists (select 1 from app_public.users u where lower(u.username) = lower(register.username))
     or exists (select 1 from app_private.user_secrets s where lower(s.email) = lower(register.email)) then
    raise exception 'username or email is already registered' using errcode = 'CONFL';
  end if;
  insert into app_public.users (username, display_name) values (username, username)
    returning id into v_user_id;
  insert into app_private.user_secrets (user_id, email, password_hash) values (v_user_id, email, v_hash);
  -- No free coins unless the operator configures a welcome grant (setting welcome_coins, default 0).
  v_welcome := coalesce((select s.value::integer from app_private.settings s where s.key = 'welcome_coins'), 0);
  if v_welcome > 0 then
    perform app_private.issue_coins(v_user_id, v_welcome, 'grant', 'welcome:' || v_user_id, 'Welcome grant');
  end if;
  return app_private.sign_jwt(v_user_id);
exception
  when unique_violation then
    raise exception 'username or email is already registered' using errcode = 'CONFL';
end;
$$;
revoke all on function app_public.register(username text, email text, password text) from public, anon, authenticated;
grant execute on function app_public.register(username text, email text, password text) to anon;
comment on function app_public.register(username text, email text, password text) is
  'Creates an account (app role viewer) and returns a signed JWT. Password: 10 characters to 72 bytes, not the username or e-mail; bcrypt cost 10. New accounts get no coins unless the operator sets a welcome grant (app_private.settings welcome_coins). Errors: BADIN invalid input, CONFL username or email taken (one message for both).';
--! EndIncluded accounts/register.sql
--! Included accounts/tg_users__identity.sql
create or replace function app_private.tg_users__identity() returns trigger
  language plpgsql
  security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  insert into app_private.user_identities (user_id, role, is_banned, sender, updated_at)
  values (new.id, new.role, new.is_banned, jsonb_build_object(
    'id', new.id,
    'username', new.username,
    'display_name', new.display_name,
    'avatar_url', new.avatar_url,
    'role', new.role,
    'vehicle_status', new.vehicle_status
  ), now())
  on conflict (user_id) do update
    set role = excluded.role, is_banned = excluded.is_banned, sender = excluded.sender, updated_at = excluded.updated_at;
  return null;
end;
$$;
revoke all on function app_private.tg_users__identity() from public, anon, authenticated;
comment on function app_private.tg_users__identity() is
  'Keeps app_private.user_identities in step with app_public.users. SECURITY DEFINER: profile edits run as the user (UPDATE on app_public.users), who has no usage on app_private.';
--! EndIncluded accounts/tg_users__identity.sql
--! Included accounts/renew_token.sql
create or replace function app_public.renew_token() returns text
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_user app_public.users;
begin
  select u.* into v_user from app_public.users u where u.id = app_public.current_user_id();
  if v_user.id is null then
    raise exception 'sign in first' using errcode = 'NOAUT';
  end if;
  if v_user.is_banned then
    raise exception 'user % is banned', v_user.username using errcode = 'BANND';
  end if;
  return app_private.sign_jwt(v_user.id);
end;
$$;
revoke all on function app_public.renew_token() from public, anon, authenticated;
grant execute on function app_public.renew_token() to authenticated;
comment on function app_public.renew_token() is
  'A fresh short-lived JWT for the signed-in user (the web server renews its session cookie with it before the old token expires). Errors: NOAUT, BANND (a banned user''s session ends).';
--! EndIncluded accounts/renew_token.sql
--! Included accounts/ban_site_user.sql
create or replace function app_public.ban_site_user(user_id uuid, reason text) returns app_public.users
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_me app_public.users := app_private.require_user();
  v_user app_public.users;
begin
  if v_me.role <> 'admin' then
    raise exception 'only an admin may ban users site-wide (user % is %)', v_me.username, v_me.role using errcode = 'DENYD';
  end if;
  if reason is null or char_length(btrim(reason)) not between 1 and 200 then
    raise exception 'a reason (1-200 characters) is required to ban a user' using errcode = 'BADIN';
  end if;
  if ban_site_user.user_id = v_me.id then
    raise exception 'admin % may not ban themselves', v_me.username using errcode = 'DENYD';
  end if;
  -- Banned, and no moderation powers left: an admin or moderator is demoted to viewer.
  update app_public.users u
     set is_banned = true,
         role = case when u.role in ('moderator', 'admin') then 'viewer'::app_public.app_role else u.role end
   where u.id = ban_site_user.user_id
  returning u.* into v_user;
  if v_user.id is null then
    raise exception 'user % not found', user_id using errcode = 'NOFND';
  end if;
  -- Every open seat ends now; the seat trigger queues the LiveKit revocation for the worker.
  update app_public.stream_seats s
     set status = 'revoked', ended_at = now(), ended_by = v_me.id, end_reason = 'banned site-wide'
   where s.user_id = v_user.id and s.status in ('invited', 'active');
  insert into app_public.moderation_actions (stream_id, actor_id, action, target_user_id, reason)
    values (null, v_me.id, 'site_ban', v_user.id, btrim(reason));
  return v_user;
end;
$$;
revoke all on function app_public.ban_site_user(user_id uuid, reason text) from public, anon, authenticated;
grant execute on function app_public.ban_site_user(user_id uuid, reason text) to authenticated;
comment on function app_public.ban_site_user(user_id uuid, reason text) is
  'Admins: bans a user site-wide, at once: they can no longer sign in, renew their session or act (every mutation answers BANND), their stage seats end (revoked at LiveKit by the worker) and a moderator or admin is demoted to viewer. Logged in the moderation log. Errors: NOAUT, BANND, DENYD (not an admin, or oneself), BADIN (reason), NOFND.';
--! EndIncluded accounts/ban_site_user.sql
--! Included accounts/unban_site_user.sql
create or replace function app_public.unban_site_user(user_id uuid, reason text) returns app_public.users
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_me app_public.users := app_private.require_user();
  v_user app_public.users;
begin
  if v_me.role <> 'admin' then
    raise exception 'only an admin may lift a site-wide ban (user % is %)', v_me.username, v_me.role using errcode = 'DENYD';
  end if;
  if char_length(reason) > 200 then
    raise exception 'reason must be at most 200 characters' using errcode = 'BADIN';
  end if;
  update app_public.users u set is_banned = false where u.id = unban_site_user.user_id returning u.* into v_user;
  if v_user.id is null then
    raise exception 'user % not found', user_id using errcode = 'NOFND';
  end if;
  insert into app_public.moderation_actions (stream_id, actor_id, action, target_user_id, reason)
    values (null, v_me.id, 'site_unban', v_user.id, nullif(btrim(reason), ''));
  return v_user;
end;
$$;
revoke all on function app_public.unban_site_user(user_id uuid, reason text) from public, anon, authenticated;
grant execute on function app_public.unban_site_user(user_id uuid, reason text) to authenticated;
comment on function app_public.unban_site_user(user_id uuid, reason text) is
  'Admins: lifts a site-wide ban (the app role stays as the ban left it). Errors: NOAUT, BANND, DENYD, BADIN, NOFND.';
--! EndIncluded accounts/unban_site_user.sql
--! Included admin/require_staff.sql
create or replace function app_private.require_staff(admin_only boolean) returns app_public.users
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_me app_public.users := app_private.require_user();
begin
  if admin_only and v_me.role <> 'admin' then
    raise exception 'admins only (user % is %)', v_me.username, v_me.role using errcode = 'DENYD';
  end if;
  if v_me.role not in ('admin', 'moderator') then
    raise exception 'admins and moderators only (user % is %)', v_me.username, v_me.role using errcode = 'DENYD';
  end if;
  return v_me;
end;
$$;
revoke all on function app_private.require_staff(admin_only boolean) from public, anon, authenticated;
comment on function app_private.require_staff(admin_only boolean) is
  'The signed-in, unbanned admin (or, unless admin_only, moderator). Errors: NOAUT, BANND, DENYD.';
--! EndIncluded admin/require_staff.sql
--! Included admin/admin_users.sql
create or replace function app_public.admin_users(search text default null)
  returns setof app_public.admin_user
  language plpgsql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  perform app_private.require_staff(true);
  if char_length(search) > 100 then
    raise exception 'search must be at most 100 characters' using errcode = 'BADIN';
  end if;
  return query
    select u.id, u.username, u.display_name, s.email, u.role, u.is_banned, coalesce(w.balance, 0)::bigint, u.created_at
      from app_public.users u
      left join app_private.user_secrets s on s.user_id = u.id
      left join app_private.wallets w on w.user_id = u.id
     where coalesce(btrim(search), '') = ''
        or u.username ilike '%' || btrim(search) || '%'
        or u.display_name ilike '%' || btrim(search) || '%'
        or s.email ilike '%' || btrim(search) || '%'
     order by u.username
     limit 100;
end;
$$;
revoke all on function app_public.admin_users(search text) from public, anon, authenticated;
grant execute on function app_public.admin_users(search text) to authenticated;
comment on function app_public.admin_users(search text) is
  'Admins: users whose username, display name or e-mail contains `search` (all when empty), with role, ban and balance; at most 100. Errors: NOAUT, BANND, DENYD, BADIN.';
--! EndIncluded admin/admin_users.sql
--! Included admin/admin_moderation_log.sql
create or replace function app_public.admin_moderation_log()
  returns setof app_public.moderation_log_entry
  language plpgsql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  perform app_private.require_staff(false);
  return query
    select m.id, m.created_at, m.action, m.stream_id, st.title, a.username, t.username, m.reason
      from app_public.moderation_actions m
      left join app_public.streams st on st.id = m.stream_id
      left join app_public.users a on a.id = m.actor_id
      left join app_public.users t on t.id = m.target_user_id
     order by m.created_at desc, m.id desc
     limit 100;
end;
$$;
revoke all on function app_public.admin_moderation_log() from public, anon, authenticated;
grant execute on function app_public.admin_moderation_log() to authenticated;
comment on function app_public.admin_moderation_log() is
  'Admins and moderators: the newest moderation actions across every stream and site-wide bans (stream null); the newest 100 at most. Errors: NOAUT, BANND, DENYD.';
--! EndIncluded admin/admin_moderation_log.sql
--! Included admin/admin_failed_gifts.sql
create or replace function app_public.admin_failed_gifts()
  returns setof app_public.failed_gift
  language plpgsql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  perform app_private.require_staff(true);
  return query
    select g.id, g.created_at, g.status, g.batch_id, sn.username, rc.username, g.coins
      from app_private.gift_ledger_status g
      left join app_public.users sn on sn.id = g.sender_id
      left join app_public.users rc on rc.id = g.receiver_id
     where g.status is distinct from 'settled' and g.status is distinct from 'pending'
     order by g.id desc
     limit 100;
end;
$$;
revoke all on function app_public.admin_failed_gifts() from public, anon, authenticated;
grant execute on function app_public.admin_failed_gifts() to authenticated;
comment on function app_public.admin_failed_gifts() is
  'Admins: the newest gifts settlement did not settle (refunded to the sender); the newest 100 at most. Errors: NOAUT, BANND, DENYD.';
--! EndIncluded admin/admin_failed_gifts.sql
--! Included admin/admin_livekit_failures.sql
create or replace function app_public.admin_livekit_failures()
  returns setof app_public.livekit_failure
  language plpgsql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
begin
  perform app_private.require_staff(true);
  return query
    select e.stream_id, st.title, u.username, e.can_publish, e.attempts, e.last_error, e.updated_at
      from app_private.livekit_enforcements e
      left join app_public.streams st on st.id = e.stream_id
      left join app_public.users u on u.id = e.user_id
     where e.state = 'failing'
     order by e.updated_at desc
     limit 100;
end;
$$;
revoke all on function app_public.admin_livekit_failures() from public, anon, authenticated;
grant execute on function app_public.admin_livekit_failures() to authenticated;
comment on function app_public.admin_livekit_failures() is
  'Admins: LiveKit seat enforcements that keep failing (the worker retries them), newest first. Errors: NOAUT, BANND, DENYD.';
--! EndIncluded admin/admin_livekit_failures.sql
--! Included gifts/my_coin_transactions.sql
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
--! EndIncluded gifts/my_coin_transactions.sql
--! Included gifts/settle_wallet_debts.sql
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
--! EndIncluded gifts/settle_wallet_debts.sql
--! Included gifts/checkout_pack.sql
create or replace function app_private.checkout_pack(user_id uuid, pack_slug text) returns app_public.coin_packs
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_user app_public.users;
  v_pack app_public.coin_packs;
begin
  select u.* into v_user from app_public.users u where u.id = checkout_pack.user_id;
  if v_user.id is null then
    raise exception 'sign in to buy coins' using errcode = 'NOAUT';
  end if;
  if v_user.is_banned then
    raise exception 'user % is banned', v_user.username using errcode = 'BANND';
  end if;
  select p.* into v_pack from app_public.coin_packs p where p.slug = checkout_pack.pack_slug and p.active;
  if v_pack.id is null then
    raise exception 'coin pack "%" is not on sale', pack_slug using errcode = 'NOFND';
  end if;
  return v_pack;
end;
$$;
revoke all on function app_private.checkout_pack(user_id uuid, pack_slug text) from public, anon, authenticated;
comment on function app_private.checkout_pack(user_id uuid, pack_slug text) is
  'The active coin pack a signed-in, unbanned user may buy (the server then opens a Stripe Checkout Session). Errors: NOAUT, BANND, NOFND.';
--! EndIncluded gifts/checkout_pack.sql
--! Included gifts/record_checkout_session.sql
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
--! EndIncluded gifts/record_checkout_session.sql
--! Included gifts/fulfil_checkout.sql
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
--! EndIncluded gifts/fulfil_checkout.sql
--! Included gifts/claw_back_payment.sql
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
--! EndIncluded gifts/claw_back_payment.sql
