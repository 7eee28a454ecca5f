--! Previous: sha1:85ce0ca672fde3345ceaa26444f15a0edeef8659
--! Hash: sha1:09aa259819164346e6b2fbd59242a67d69945b12
--! Message: gift economy

--! split: 100-gifts.sql
-- Gift economy: catalogue, wallets, an append-only gift ledger, double-entry coin movements,
-- 10-second batch settlement, materialised leaderboards and batch health logs.
--
-- Why it is shaped so (DESIGN §1, §3.2, §4):
-- * A gift is accepted in one durable transaction that touches only the sender's own rows: the
--   sender's wallet is debited (so an accepted gift can never fail later for lack of funds), one
--   ledger row is appended, and one `gift` event goes to the UNLOGGED outbox. The receiver's wallet
--   and every leaderboard row are hot rows: they are never touched in the request.
-- * Settlement (`app_private.process_gift_ledger_batch`) picks pending gifts with FOR UPDATE SKIP
--   LOCKED, and in the same transaction credits each receiver once per batch, books the platform fee,
--   updates the materialised stats and writes one `gift_batch_logs` row. All writes to shared rows
--   happen in one fixed table order, each in sorted key order, so concurrent batches never deadlock.
-- * Double entry: every coin movement is a balanced transfer between two accounts (user wallets,
--   `issuer`, `escrow`, `platform`). A gift's own ledger row is the journal entry of its hold
--   (sender -> escrow); every other movement is a `coin_transactions` row. `coin_entries` shows both
--   as debit/credit entries, and `gift_audit()` lists every broken invariant (zero rows = healthy).
-- * Ledger rows are never edited or deleted: the only change allowed is the one-way settlement
--   transition (pending -> settled/failed); refunds and chargebacks are new, reversing entries.

--------------------------------------------------------------------------------
-- Re-runnable: drop what this file creates, in reverse order.
--------------------------------------------------------------------------------
drop function if exists app_private.gift_audit();
drop function if exists app_public.gift_batch_logs(integer);
drop function if exists app_public.top_gifters_of_broadcaster(uuid, integer);
drop function if exists app_public.top_gifters(uuid, integer);
drop function if exists app_public.leaderboard(text, integer);
drop function if exists app_private.reverse_gift(bigint, text);
drop function if exists app_private.process_gift_ledger_batch(integer);
drop function if exists app_private.stream_leaderboard_event(uuid, uuid, bigint);
drop function if exists app_public.send_gift(uuid, uuid, integer, text);
drop function if exists app_private.gift_receipt_for(app_private.gift_ledger, uuid, uuid, integer);
drop function if exists app_public.grant_coins(uuid, integer, text);
drop function if exists app_private.purchase_coins(text, text, uuid, integer, integer, text, jsonb);
drop function if exists app_private.issue_coins(uuid, bigint, text, text, text);
drop function if exists app_public.my_wallet();
drop function if exists app_public.period_start(text, timestamptz);
drop function if exists app_private.gift_setting(text, integer);
drop view if exists app_private.coin_entries;
drop table if exists app_public.gift_batch_logs cascade;
drop table if exists app_public.broadcaster_gifter_stats cascade;
drop table if exists app_public.stream_gifter_stats cascade;
drop table if exists app_public.broadcaster_stats cascade;
drop table if exists app_private.payment_events cascade;
drop table if exists app_private.coin_transactions cascade;
drop table if exists app_private.gift_ledger cascade;
drop table if exists app_private.wallets cascade;
drop table if exists app_public.gifts cascade;
drop function if exists app_private.tg__append_only();
drop type if exists app_public.leaderboard_entry;
drop type if exists app_public.gift_receipt;
drop type if exists app_public.wallet_summary;
delete from app_private.settings where key in ('gift_fee_bps', 'gift_batch_size');

--------------------------------------------------------------------------------
-- Settings
--------------------------------------------------------------------------------

-- Platform fee in basis points (2000 = 20 %), fixed on each gift when it is sent; default batch size.
insert into app_private.settings (key, value) values ('gift_fee_bps', '2000'), ('gift_batch_size', '10000')
  on conflict (key) do nothing;

create function app_private.gift_setting(key text, fallback integer) returns integer
  language sql stable
  set search_path = ''
as $$
  select coalesce((select s.value::integer from app_private.settings s where s.key = gift_setting.key), fallback)
$$;
comment on function app_private.gift_setting(text, integer) is
  'Integer gift setting from app_private.settings: gift_fee_bps (platform fee, basis points), gift_batch_size.';

--------------------------------------------------------------------------------
-- Shared: append-only guard
--------------------------------------------------------------------------------

create function app_private.tg__append_only() returns trigger
  language plpgsql
  set search_path = ''
as $$
begin
  raise exception '%.% is append-only: % is not allowed (reverse with new entries instead)',
    tg_table_schema, tg_table_name, lower(tg_op) using errcode = 'DENYD';
end;
$$;
comment on function app_private.tg__append_only() is
  'Rejects UPDATE/DELETE/TRUNCATE on ledger tables; corrections are new, reversing entries.';

--------------------------------------------------------------------------------
-- Catalogue
--------------------------------------------------------------------------------

create table app_public.gifts (
  id uuid primary key default gen_random_uuid(),
  slug text not null unique check (slug ~ '^[a-z][a-z0-9_-]{1,39}$'),
  name text not null check (char_length(name) between 1 and 40),
  coin_price integer not null check (coin_price between 1 and 1000000),
  art_url text not null check (art_url ~ '^(https?://|/)[^\s]+$'),
  active boolean not null default true,
  sort_order integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table app_public.gifts enable row level security;
alter table app_public.gifts force row level security;
create index gifts_active_sort_idx on app_public.gifts (sort_order, coin_price) where active;
create trigger _100_timestamps before insert or update on app_public.gifts
  for each row execute function app_private.tg__timestamps();
-- The catalogue is public (inactive gifts too: old ledger entries and receipts still name them).
create policy select_all on app_public.gifts for select using (true);
grant select on app_public.gifts to anon, authenticated;
comment on table app_public.gifts is 'Gift catalogue: what viewers can send and what it costs. Prices come only from here.';
comment on column app_public.gifts.slug is 'Stable short name (lowercase letters, digits, - and _).';
comment on column app_public.gifts.name is 'Name shown in the gift panel and on the animation.';
comment on column app_public.gifts.coin_price is 'Price of one gift in coins.';
comment on column app_public.gifts.art_url is 'Image/animation URL (absolute http(s) or a site path).';
comment on column app_public.gifts.active is 'Inactive gifts stay in the catalogue for history but cannot be sent.';
comment on column app_public.gifts.sort_order is 'Position in the gift panel.';

--------------------------------------------------------------------------------
-- Wallets
--------------------------------------------------------------------------------

create table app_private.wallets (
  user_id uuid primary key references app_public.users (id) on delete restrict,
  balance bigint not null default 0 check (balance >= 0),
  updated_at timestamptz not null default now()
);
comment on table app_private.wallets is
  'Spendable coins per user. Never negative (constraint). Written only by send_gift (the sender''s own row), settlement and coin issuing; read through my_wallet().';

--------------------------------------------------------------------------------
-- Gift ledger (append-only; the one allowed change is pending -> settled/failed)
--------------------------------------------------------------------------------

create table app_private.gift_ledger (
  id bigint generated always as identity primary key,
  sender_id uuid not null references app_public.users (id) on delete restrict,
  receiver_id uuid not null references app_public.users (id) on delete restrict,
  stream_id uuid not null references app_public.streams (id) on delete restrict,
  gift_id uuid not null references app_public.gifts (id) on delete restrict,
  quantity integer not null check (quantity between 1 and 1000),
  unit_price integer not null check (unit_price > 0),
  coins bigint not null check (coins > 0),
  fee_coins bigint not null check (fee_coins >= 0 and fee_coins <= coins),
  idempotency_key text check (char_length(idempotency_key) between 1 and 200),
  status text not null default 'pending' check (status in ('pending', 'settled', 'failed')),
  batch_id bigint,
  settled_at timestamptz,
  created_at timestamptz not null default now(),
  check (coins = unit_price::bigint * quantity),
  check ((status = 'pending') = (batch_id is null)),
  check ((status = 'pending') = (settled_at is null)),
  check (sender_id <> receiver_id)
);
-- Settlement's work queue: only pending rows, in id (= arrival) order.
create index gift_ledger_pending_idx on app_private.gift_ledger (id) where status = 'pending';
create unique index gift_ledger_idempotency_key on app_private.gift_ledger (sender_id, idempotency_key)
  where idempotency_key is not null;
create index gift_ledger_sender_id_idx on app_private.gift_ledger (sender_id, id);
create index gift_ledger_receiver_id_idx on app_private.gift_ledger (receiver_id, id);
create index gift_ledger_stream_id_idx on app_private.gift_ledger (stream_id, id);
create index gift_ledger_gift_id_idx on app_private.gift_ledger (gift_id);
-- Append-only. The WHEN clause is evaluated in C, so settlement's legal transition costs no
-- function call; anything else (re-settling, editing amounts, reverting) reaches the trigger and fails.
create trigger _200_append_only before update on app_private.gift_ledger
  for each row
  when (old.status <> 'pending' or new.status = 'pending'
        or (old.id, old.sender_id, old.receiver_id, old.stream_id, old.gift_id, old.quantity, old.unit_price,
            old.coins, old.fee_coins, old.idempotency_key, old.created_at)
           is distinct from
           (new.id, new.sender_id, new.receiver_id, new.stream_id, new.gift_id, new.quantity, new.unit_price,
            new.coins, new.fee_coins, new.idempotency_key, new.created_at))
  execute function app_private.tg__append_only();
create trigger _200_append_only_delete before delete on app_private.gift_ledger
  for each row execute function app_private.tg__append_only();
create trigger _200_append_only_truncate before truncate on app_private.gift_ledger
  for each statement execute function app_private.tg__append_only();
comment on table app_private.gift_ledger is
  'Every accepted gift, appended by send_gift (it is also the journal entry of the hold: sender -> escrow). Settled in batches; never edited.';
comment on column app_private.gift_ledger.fee_coins is 'Platform fee fixed when the gift was sent (gift_fee_bps at that time, rounded down).';
comment on column app_private.gift_ledger.batch_id is 'gift_batch_logs.id of the batch that settled (or failed) it.';

--------------------------------------------------------------------------------
-- Coin transactions (double entry: each row debits one account and credits another)
--------------------------------------------------------------------------------

create table app_private.coin_transactions (
  id bigint generated always as identity primary key,
  kind text not null check (kind in ('purchase', 'grant', 'gift_settlement', 'gift_fee', 'gift_refund', 'gift_reversal', 'gift_fee_reversal')),
  debit_account text not null check (debit_account in ('user', 'issuer', 'escrow', 'platform')),
  debit_user_id uuid references app_public.users (id) on delete restrict,
  credit_account text not null check (credit_account in ('user', 'issuer', 'escrow', 'platform')),
  credit_user_id uuid references app_public.users (id) on delete restrict,
  amount bigint not null check (amount > 0),
  batch_id bigint,
  gift_ledger_id bigint references app_private.gift_ledger (id) on delete restrict,
  reference text check (char_length(reference) between 1 and 300),
  note text,
  created_at timestamptz not null default now(),
  check ((debit_account = 'user') = (debit_user_id is not null)),
  check ((credit_account = 'user') = (credit_user_id is not null)),
  check (debit_account <> credit_account or debit_user_id <> credit_user_id)
);
create unique index coin_transactions_kind_reference_key on app_private.coin_transactions (kind, reference) where reference is not null;
create index coin_transactions_debit_user_id_idx on app_private.coin_transactions (debit_user_id) where debit_user_id is not null;
create index coin_transactions_credit_user_id_idx on app_private.coin_transactions (credit_user_id) where credit_user_id is not null;
create index coin_transactions_gift_ledger_id_idx on app_private.coin_transactions (gift_ledger_id) where gift_ledger_id is not null;
create trigger _200_append_only before update or delete on app_private.coin_transactions
  for each row execute function app_private.tg__append_only();
create trigger _200_append_only_truncate before truncate on app_private.coin_transactions
  for each statement execute function app_private.tg__append_only();
comment on table app_private.coin_transactions is
  'Every coin movement other than a gift hold, as a balanced transfer: debit_account -> credit_account. Append-only; (kind, reference) makes issuing idempotent.';

-- The journal in debit/credit form: each movement as two entries that sum to zero.
create view app_private.coin_entries as
  select 'coin_transaction'::text as source, t.id, t.kind, t.created_at, t.debit_account as account, t.debit_user_id as user_id, -t.amount as amount
    from app_private.coin_transactions t
  union all
  select 'coin_transaction', t.id, t.kind, t.created_at, t.credit_account, t.credit_user_id, t.amount
    from app_private.coin_transactions t
  union all
  select 'gift_hold', g.id, 'gift_hold', g.created_at, 'user', g.sender_id, -g.coins from app_private.gift_ledger g
  union all
  select 'gift_hold', g.id, 'gift_hold', g.created_at, 'escrow', null, g.coins from app_private.gift_ledger g;
comment on view app_private.coin_entries is 'Double-entry view of all coin movements: every movement is two entries summing to zero.';

-- Payment-provider events, kept for audit; unique per provider event id (webhook idempotency).
create table app_private.payment_events (
  provider text not null check (provider ~ '^[a-z][a-z0-9_-]{1,30}$'),
  event_id text not null check (char_length(event_id) between 1 and 200),
  user_id uuid not null references app_public.users (id) on delete restrict,
  coins integer not null check (coins > 0),
  amount_cents integer check (amount_cents >= 0),
  currency text check (currency ~ '^[A-Z]{3}$'),
  payload jsonb not null,
  coin_transaction_id bigint not null references app_private.coin_transactions (id),
  received_at timestamptz not null default now(),
  primary key (provider, event_id)
);
create index payment_events_user_id_idx on app_private.payment_events (user_id);
create index payment_events_coin_transaction_id_idx on app_private.payment_events (coin_transaction_id);
create trigger _200_append_only before update or delete on app_private.payment_events
  for each row execute function app_private.tg__append_only();
comment on table app_private.payment_events is 'Coin purchases reported by the payment provider''s webhook; one row per provider event.';

--------------------------------------------------------------------------------
-- Materialised stats (written only by settlement and reversals; read by leaderboards)
--------------------------------------------------------------------------------

-- Period buckets have explicit UTC boundaries: day, ISO week (Monday), month; all_time starts at the epoch.
create function app_public.period_start(period text, at timestamptz default now()) returns timestamptz
  language sql immutable parallel safe
  set search_path = ''
as $$
  select case period
    when 'day' then date_trunc('day', at, 'UTC')
    when 'week' then date_trunc('week', at, 'UTC')
    when 'month' then date_trunc('month', at, 'UTC')
    when 'all_time' then timestamptz '1970-01-01 00:00:00+00'
  end
$$;
grant execute on function app_public.period_start(text, timestamptz) to anon, authenticated;
comment on function app_public.period_start(text, timestamptz) is
  E'@behavior -queryField\nStart (UTC) of the leaderboard period containing `at`: day, week (ISO, Monday), month, or all_time (the epoch).';

create table app_public.broadcaster_stats (
  broadcaster_id uuid not null references app_public.users (id) on delete restrict,
  period text not null check (period in ('day', 'week', 'month', 'all_time')),
  period_start timestamptz not null,
  coins bigint not null default 0,
  earned_coins bigint not null default 0,
  gifts bigint not null default 0,
  updated_at timestamptz not null default now(),
  primary key (period, period_start, broadcaster_id),
  check (period_start = app_public.period_start(period, period_start))
);
alter table app_public.broadcaster_stats enable row level security;
alter table app_public.broadcaster_stats force row level security;
-- Leaderboard read: the first `limit` entries of one bucket, in order.
create index broadcaster_stats_leaderboard_idx on app_public.broadcaster_stats (period, period_start, coins desc, broadcaster_id);
create index broadcaster_stats_broadcaster_id_idx on app_public.broadcaster_stats (broadcaster_id);
-- Leaderboards are public.
create policy select_all on app_public.broadcaster_stats for select using (true);
grant select on app_public.broadcaster_stats to anon, authenticated;
comment on table app_public.broadcaster_stats is
  'Coins received per broadcaster per period bucket (day, week, month, all_time; UTC), materialised by settlement. Leaderboards read only this.';
comment on column app_public.broadcaster_stats.period_start is 'UTC start of the bucket (the epoch for all_time). Gifts count in the bucket of the time they were sent.';
comment on column app_public.broadcaster_stats.coins is 'Gross coins of the gifts received (what gifters spent).';
comment on column app_public.broadcaster_stats.earned_coins is 'Coins credited to the broadcaster after the platform fee.';
comment on column app_public.broadcaster_stats.gifts is 'Number of gift items received (quantities summed).';

create table app_public.stream_gifter_stats (
  stream_id uuid not null references app_public.streams (id) on delete restrict,
  gifter_id uuid not null references app_public.users (id) on delete restrict,
  coins bigint not null default 0,
  gifts bigint not null default 0,
  updated_at timestamptz not null default now(),
  primary key (stream_id, gifter_id)
);
alter table app_public.stream_gifter_stats enable row level security;
alter table app_public.stream_gifter_stats force row level security;
create index stream_gifter_stats_top_idx on app_public.stream_gifter_stats (stream_id, coins desc, gifter_id);
create index stream_gifter_stats_gifter_id_idx on app_public.stream_gifter_stats (gifter_id);
-- Top gifters are shown to everyone watching.
create policy select_all on app_public.stream_gifter_stats for select using (true);
grant select on app_public.stream_gifter_stats to anon, authenticated;
comment on table app_public.stream_gifter_stats is 'Coins each gifter has spent in one stream (settled gifts), materialised by settlement.';

create table app_public.broadcaster_gifter_stats (
  broadcaster_id uuid not null references app_public.users (id) on delete restrict,
  gifter_id uuid not null references app_public.users (id) on delete restrict,
  coins bigint not null default 0,
  gifts bigint not null default 0,
  updated_at timestamptz not null default now(),
  primary key (broadcaster_id, gifter_id)
);
alter table app_public.broadcaster_gifter_stats enable row level security;
alter table app_public.broadcaster_gifter_stats force row level security;
create index broadcaster_gifter_stats_top_idx on app_public.broadcaster_gifter_stats (broadcaster_id, coins desc, gifter_id);
create index broadcaster_gifter_stats_gifter_id_idx on app_public.broadcaster_gifter_stats (gifter_id);
-- A broadcaster's top supporters are public, like the stream's.
create policy select_all on app_public.broadcaster_gifter_stats for select using (true);
grant select on app_public.broadcaster_gifter_stats to anon, authenticated;
comment on table app_public.broadcaster_gifter_stats is 'Coins each gifter has spent on one broadcaster, all time (settled gifts), materialised by settlement.';

create table app_public.gift_batch_logs (
  id bigint generated by default as identity primary key,
  started_at timestamptz not null,
  finished_at timestamptz not null,
  max_rows integer not null,
  processed integer not null,
  settled integer not null,
  failed integer not null,
  coins_settled bigint not null,
  fees bigint not null,
  streams integer not null,
  backlog_count bigint not null,
  duration_ms numeric(12, 3) not null,
  oldest_settled_lag_ms numeric(14, 3),
  oldest_pending_lag_ms numeric(14, 3),
  check (processed = settled + failed)
);
alter table app_public.gift_batch_logs enable row level security;
alter table app_public.gift_batch_logs force row level security;
create index gift_batch_logs_started_at_idx on app_public.gift_batch_logs (started_at);
-- Batch health is operational data: admins only.
create policy select_as_admin on app_public.gift_batch_logs for select to authenticated
  using (exists (select 1 from app_public.users u where u.id = (select app_public.current_user_id()) and u.role = 'admin'));
grant select on app_public.gift_batch_logs to authenticated;
comment on table app_public.gift_batch_logs is
  'One row per settlement batch (also when there was nothing to settle: proof that the schedule runs). Admins only.';
comment on column app_public.gift_batch_logs.processed is 'Gifts taken from the queue in this batch (settled + failed).';
comment on column app_public.gift_batch_logs.failed is 'Gifts refunded to the sender because the receiver could not be credited (banned).';
comment on column app_public.gift_batch_logs.backlog_count is 'Gifts still pending when the batch finished.';
comment on column app_public.gift_batch_logs.oldest_settled_lag_ms is 'Age of the oldest gift settled by this batch (sent -> settled).';
comment on column app_public.gift_batch_logs.oldest_pending_lag_ms is 'Age of the oldest gift still pending when the batch finished.';

--------------------------------------------------------------------------------
-- Wallet reads and coin issuing
--------------------------------------------------------------------------------

create type app_public.wallet_summary as (
  user_id uuid,
  balance bigint,
  updated_at timestamptz
);
comment on type app_public.wallet_summary is 'A user''s spendable coins.';

create function app_public.my_wallet() returns app_public.wallet_summary
  language plpgsql stable
  security definer
  set search_path = ''
as $$
declare
  v_uid uuid := app_public.current_user_id();
  v_out app_public.wallet_summary;
begin
  if v_uid is null then
    raise exception 'sign in to see your wallet' using errcode = 'NOAUT';
  end if;
  select v_uid, coalesce(w.balance, 0), w.updated_at into v_out
    from (select 1) one left join app_private.wallets w on w.user_id = v_uid;
  return v_out;
end;
$$;
grant execute on function app_public.my_wallet() to authenticated;
comment on function app_public.my_wallet() is 'The signed-in user''s coin balance (0 without a wallet). Errors: NOAUT.';

-- Issue new coins to a user (purchase, admin grant, demo seed). Idempotent on (kind, reference).
create function app_private.issue_coins(user_id uuid, coins bigint, kind text, reference text default null, note text default null)
  returns table (coin_transaction_id bigint, duplicate boolean, balance bigint)
  language plpgsql volatile
  set search_path = ''
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
comment on function app_private.issue_coins(uuid, bigint, text, text, text) is
  'Credits new coins (issuer -> user). Idempotent per (kind, reference): a repeat returns the first transaction with duplicate = true.';

create function app_private.purchase_coins(provider text, provider_event_id text, user_id uuid, coins integer,
                                           amount_cents integer default null, currency text default null, payload jsonb default '{}')
  returns table (coin_transaction_id bigint, duplicate boolean, balance bigint)
  language plpgsql volatile
  set search_path = ''
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
comment on function app_private.purchase_coins(text, text, uuid, integer, integer, text, jsonb) is
  'Credits purchased coins for a verified payment-provider event; idempotent on (provider, event id). Called by the webhook route only.';

create function app_public.grant_coins(user_id uuid, coins integer, reason text) returns app_public.wallet_summary
  language plpgsql volatile
  security definer
  set search_path = ''
as $$
declare
  v_uid uuid := app_public.current_user_id();
  v_out app_public.wallet_summary;
begin
  if v_uid is null then
    raise exception 'sign in to grant coins' using errcode = 'NOAUT';
  end if;
  if not exists (select 1 from app_public.users u where u.id = v_uid and u.role = 'admin' and not u.is_banned) then
    raise exception 'only admins may grant coins' using errcode = 'DENYD';
  end if;
  if reason is null or char_length(btrim(reason)) not between 1 and 200 then
    raise exception 'a reason (1-200 characters) is required to grant coins' using errcode = 'BADIN';
  end if;
  if coins is null or coins not between 1 and 10000000 then
    raise exception 'coins to grant must be between 1 and 10000000, got %', coins using errcode = 'BADIN';
  end if;
  perform app_private.issue_coins(grant_coins.user_id, grant_coins.coins, 'grant', null,
                                  format('by %s: %s', v_uid, btrim(reason)));
  select w.user_id, w.balance, w.updated_at into v_out from app_private.wallets w where w.user_id = grant_coins.user_id;
  return v_out;
end;
$$;
grant execute on function app_public.grant_coins(uuid, integer, text) to authenticated;
comment on function app_public.grant_coins(uuid, integer, text) is
  'Admins: issue coins to a user, with a reason kept in the ledger. Errors: NOAUT, DENYD (not an admin), BADIN, NOFND (no such user).';

--------------------------------------------------------------------------------
-- Sending a gift
--------------------------------------------------------------------------------

create type app_public.gift_receipt as (
  gift_ledger_id bigint,
  stream_id uuid,
  gift_id uuid,
  quantity integer,
  coins bigint,
  status text,
  balance bigint,
  replayed boolean,
  created_at timestamptz
);
comment on type app_public.gift_receipt is 'What send_gift accepted: ledger id, price paid, the sender''s balance now, and whether this was a replay of an earlier request with the same idempotency key.';

create function app_private.gift_receipt_for(g app_private.gift_ledger, stream_id uuid, gift_id uuid, quantity integer)
  returns app_public.gift_receipt
  language plpgsql stable
  set search_path = ''
as $$
begin
  if (g.stream_id, g.gift_id, g.quantity) is distinct from (gift_receipt_for.stream_id, gift_receipt_for.gift_id, gift_receipt_for.quantity) then
    raise exception 'idempotency key "%" was already used for another gift (ledger entry %)', g.idempotency_key, g.id
      using errcode = 'IDEMP';
  end if;
  return row(g.id, g.stream_id, g.gift_id, g.quantity, g.coins, g.status,
             (select w.balance from app_private.wallets w where w.user_id = g.sender_id), true, g.created_at)::app_public.gift_receipt;
end;
$$;
comment on function app_private.gift_receipt_for(app_private.gift_ledger, uuid, uuid, integer) is
  'Receipt for a replayed send_gift request; IDEMP when the key was used with other arguments.';

create function app_public.send_gift(stream_id uuid, gift_id uuid, quantity integer default 1, idempotency_key text default null)
  returns app_public.gift_receipt
  language plpgsql volatile
  security definer
  set search_path = ''
as $$
#variable_conflict use_column
declare
  v_uid uuid := app_public.current_user_id();
  v_sender app_public.users;
  v_stream app_public.streams;
  v_gift app_public.gifts;
  v_row app_private.gift_ledger;
  v_coins bigint;
  v_balance bigint;
begin
  if v_uid is null then
    raise exception 'sign in to send gifts' using errcode = 'NOAUT';
  end if;
  if send_gift.idempotency_key is not null then
    if char_length(send_gift.idempotency_key) not between 1 and 200 then
      raise exception 'idempotency key must be 1-200 characters' using errcode = 'BADIN';
    end if;
    select * into v_row from app_private.gift_ledger g
     where g.sender_id = v_uid and g.idempotency_key = send_gift.idempotency_key;
    if found then
      return app_private.gift_receipt_for(v_row, send_gift.stream_id, send_gift.gift_id, send_gift.quantity);
    end if;
  end if;
  if send_gift.quantity is null or send_gift.quantity not between 1 and 1000 then
    raise exception 'quantity must be between 1 and 1000, got %', send_gift.quantity using errcode = 'BADIN';
  end if;
  select * into v_sender from app_public.users u where u.id = v_uid;
  if not found then
    raise exception 'user % no longer exists', v_uid using errcode = 'NOAUT';
  end if;
  if v_sender.is_banned then
    raise exception 'user % is banned', v_sender.username using errcode = 'BANND';
  end if;
  select * into v_stream from app_public.streams s where s.id = send_gift.stream_id;
  if not found then
    raise exception 'stream % not found', send_gift.stream_id using errcode = 'NOFND';
  end if;
  if v_stream.status <> 'live' then
    raise exception 'stream % is not live', send_gift.stream_id using errcode = 'NLIVE';
  end if;
  if v_stream.broadcaster_id = v_uid then
    raise exception 'user % cannot send gifts to their own stream %', v_sender.username, v_stream.id using errcode = 'DENYD';
  end if;
  select * into v_gift from app_public.gifts gi where gi.id = send_gift.gift_id;
  if not found then
    raise exception 'gift % not found', send_gift.gift_id using errcode = 'NOFND';
  end if;
  if not v_gift.active then
    raise exception 'gift "%" is no longer available', v_gift.name using errcode = 'BADIN';
  end if;

  v_coins := v_gift.coin_price::bigint * send_gift.quantity;
  insert into app_private.gift_ledger (sender_id, receiver_id, stream_id, gift_id, quantity, unit_price, coins, fee_coins, idempotency_key)
    values (v_uid, v_stream.broadcaster_id, v_stream.id, v_gift.id, send_gift.quantity, v_gift.coin_price, v_coins,
            v_coins * app_private.gift_setting('gift_fee_bps', 2000) / 10000, send_gift.idempotency_key)
    on conflict (sender_id, idempotency_key) where idempotency_key is not null do nothing
    returning * into v_row;
  if not found then
    -- A concurrent request with the same key committed first: answer as its replay.
    select * into v_row from app_private.gift_ledger g
     where g.sender_id = v_uid and g.idempotency_key = send_gift.idempotency_key;
    return app_private.gift_receipt_for(v_row, send_gift.stream_id, send_gift.gift_id, send_gift.quantity);
  end if;

  -- The debit: the sender's own row only. No row, or too little: nothing is recorded.
  update app_private.wallets w set balance = w.balance - v_coins, updated_at = now()
   where w.user_id = v_uid and w.balance >= v_coins
   returning w.balance into v_balance;
  if not found then
    raise exception 'insufficient funds: % × "%" costs % coins, user % has %', send_gift.quantity, v_gift.name, v_coins,
      v_sender.username, coalesce((select w.balance from app_private.wallets w where w.user_id = v_uid), 0)
      using errcode = 'INSFD';
  end if;

  perform app_private.publish_stream_event(v_stream.id, 'gift', jsonb_build_object(
    'type', 'gift',
    'id', v_row.id,
    'stream_id', v_stream.id,
    'receiver_id', v_stream.broadcaster_id,
    'sender', jsonb_build_object('id', v_sender.id, 'username', v_sender.username,
                                 'display_name', v_sender.display_name, 'avatar_url', v_sender.avatar_url),
    'gift', jsonb_build_object('id', v_gift.id, 'slug', v_gift.slug, 'name', v_gift.name,
                               'art_url', v_gift.art_url, 'coin_price', v_gift.coin_price),
    'quantity', send_gift.quantity,
    'coins', v_coins,
    'sent_at', v_row.created_at));

  return row(v_row.id, v_row.stream_id, v_row.gift_id, v_row.quantity, v_row.coins, v_row.status, v_balance, false, v_row.created_at)::app_public.gift_receipt;
end;
$$;
grant execute on function app_public.send_gift(uuid, uuid, integer, text) to authenticated;
comment on function app_public.send_gift(uuid, uuid, integer, text) is
  'Send `quantity` of a catalogue gift to a live stream''s broadcaster. The price comes from the catalogue; the sender is debited at once and the gift is settled to the broadcaster within about 10 s. Idempotent per sender and `idempotencyKey`: the same key with the same arguments returns the original receipt. Errors: NOAUT, BANND, BADIN (quantity 1-1000, gift inactive), NOFND (stream or gift), NLIVE, DENYD (own stream), INSFD (cannot pay; nothing recorded), IDEMP (key reused with other arguments).';

--------------------------------------------------------------------------------
-- Settlement
--------------------------------------------------------------------------------

-- The self-contained leaderboard event of one stream after a batch: top gifters and the broadcaster's totals.
create function app_private.stream_leaderboard_event(stream_id uuid, broadcaster_id uuid, batch_id bigint) returns jsonb
  language sql stable
  set search_path = ''
as $$
  select jsonb_build_object(
    'type', 'leaderboard',
    'stream_id', stream_id,
    'broadcaster_id', broadcaster_id,
    'batch_id', batch_id,
    'top_gifters', coalesce((
      select jsonb_agg(jsonb_build_object('rank', t.rank, 'user_id', t.gifter_id, 'username', u.username,
                                          'display_name', u.display_name, 'avatar_url', u.avatar_url,
                                          'coins', t.coins, 'gifts', t.gifts) order by t.rank)
        from (select s.gifter_id, s.coins, s.gifts, row_number() over (order by s.coins desc, s.gifter_id) as rank
                from app_public.stream_gifter_stats s
               where s.stream_id = stream_leaderboard_event.stream_id
               order by s.coins desc, s.gifter_id limit 10) t
        join app_public.users u on u.id = t.gifter_id), '[]'::jsonb),
    'earnings', (
      select jsonb_build_object(
        'coins_today', coalesce(max(b.coins) filter (where b.period = 'day'), 0),
        'coins_all_time', coalesce(max(b.coins) filter (where b.period = 'all_time'), 0),
        'earned_all_time', coalesce(max(b.earned_coins) filter (where b.period = 'all_time'), 0))
        from app_public.broadcaster_stats b
       where b.broadcaster_id = stream_leaderboard_event.broadcaster_id
         and (b.period, b.period_start) in (('day', app_public.period_start('day', now())), ('all_time', app_public.period_start('all_time'))))
  )
$$;

create function app_private.process_gift_ledger_batch(max_rows integer default null) returns app_public.gift_batch_logs
  language plpgsql volatile
  set search_path = ''
as $$
declare
  v_max integer := coalesce(max_rows, app_private.gift_setting('gift_batch_size', 10000));
  v_started timestamptz := clock_timestamp();
  v_batch_id bigint := nextval(pg_get_serial_sequence('app_public.gift_batch_logs', 'id'));
  v_log app_public.gift_batch_logs;
  v_oldest_pending timestamptz;
begin
  if v_max is null or v_max not between 1 and 1000000 then
    raise exception 'max_rows must be between 1 and 1000000, got %', v_max using errcode = 'BADIN';
  end if;
  -- Scratch space for this batch's rows (dropped at commit; created once per transaction).
  create temp table if not exists gift_batch_rows (
    id bigint, sender_id uuid, receiver_id uuid, stream_id uuid, quantity integer, coins bigint, fee_coins bigint,
    status text, created_at timestamptz
  ) on commit drop;
  truncate pg_temp.gift_batch_rows;

  -- 1. Take pending gifts (others' locked rows are skipped) and mark them; banned receivers' gifts fail (refund).
  with picked as (
    select g.id from app_private.gift_ledger g
     where g.status = 'pending'
     order by g.id
     limit v_max
     for update skip locked
  ), marked as (
    update app_private.gift_ledger g
       set status = case when r.is_banned then 'failed' else 'settled' end,
           batch_id = v_batch_id,
           settled_at = v_started
      from picked p, app_public.users r
     where g.id = p.id and r.id = g.receiver_id
    returning g.id, g.sender_id, g.receiver_id, g.stream_id, g.quantity, g.coins, g.fee_coins, g.status, g.created_at
  )
  insert into pg_temp.gift_batch_rows select * from marked;

  -- 2. Wallet credits: one per user per batch, in user id order (receivers' net coins, refunds to senders).
  insert into app_private.wallets as w (user_id, balance)
  select c.user_id, sum(c.amount)
    from (select b.receiver_id as user_id, b.coins - b.fee_coins as amount from pg_temp.gift_batch_rows b where b.status = 'settled'
          union all
          select b.sender_id, b.coins from pg_temp.gift_batch_rows b where b.status = 'failed') c
   group by c.user_id
  having sum(c.amount) > 0
   order by c.user_id
  on conflict (user_id) do update set balance = w.balance + excluded.balance, updated_at = now();

  -- 3. The journal: escrow -> receiver (net), escrow -> platform (fees), escrow -> sender (refunds).
  insert into app_private.coin_transactions (kind, debit_account, credit_account, credit_user_id, amount, batch_id)
  select 'gift_settlement', 'escrow', 'user', b.receiver_id, sum(b.coins - b.fee_coins), v_batch_id
    from pg_temp.gift_batch_rows b where b.status = 'settled'
   group by b.receiver_id having sum(b.coins - b.fee_coins) > 0
  union all
  select 'gift_fee', 'escrow', 'platform', null, sum(b.fee_coins), v_batch_id
    from pg_temp.gift_batch_rows b where b.status = 'settled' having sum(b.fee_coins) > 0
  union all
  select 'gift_refund', 'escrow', 'user', b.sender_id, sum(b.coins), v_batch_id
    from pg_temp.gift_batch_rows b where b.status = 'failed'
   group by b.sender_id;

  -- 4. Materialised stats, each in key order. Buckets by the time the gift was sent (UTC).
  insert into app_public.broadcaster_stats as s (broadcaster_id, period, period_start, coins, earned_coins, gifts)
  select b.receiver_id, p.period, app_public.period_start(p.period, b.created_at),
         sum(b.coins), sum(b.coins - b.fee_coins), sum(b.quantity)
    from pg_temp.gift_batch_rows b
   cross join (values ('day'), ('week'), ('month'), ('all_time')) p(period)
   where b.status = 'settled'
   group by 2, 3, 1
   order by 2, 3, 1
  on conflict (period, period_start, broadcaster_id) do update
     set coins = s.coins + excluded.coins, earned_coins = s.earned_coins + excluded.earned_coins,
         gifts = s.gifts + excluded.gifts, updated_at = now();

  insert into app_public.stream_gifter_stats as s (stream_id, gifter_id, coins, gifts)
  select b.stream_id, b.sender_id, sum(b.coins), sum(b.quantity)
    from pg_temp.gift_batch_rows b where b.status = 'settled'
   group by 1, 2 order by 1, 2
  on conflict (stream_id, gifter_id) do update
     set coins = s.coins + excluded.coins, gifts = s.gifts + excluded.gifts, updated_at = now();

  insert into app_public.broadcaster_gifter_stats as s (broadcaster_id, gifter_id, coins, gifts)
  select b.receiver_id, b.sender_id, sum(b.coins), sum(b.quantity)
    from pg_temp.gift_batch_rows b where b.status = 'settled'
   group by 1, 2 order by 1, 2
  on conflict (broadcaster_id, gifter_id) do update
     set coins = s.coins + excluded.coins, gifts = s.gifts + excluded.gifts, updated_at = now();

  -- 5. One leaderboard event per affected stream (through the outbox; never NOTIFY here).
  perform app_private.publish_stream_event(a.stream_id, 'leaderboard',
                                           app_private.stream_leaderboard_event(a.stream_id, a.receiver_id, v_batch_id))
     from (select distinct b.stream_id, b.receiver_id from pg_temp.gift_batch_rows b where b.status = 'settled') a;

  -- 6. The batch log.
  select g.created_at into v_oldest_pending from app_private.gift_ledger g where g.status = 'pending' order by g.id limit 1;
  insert into app_public.gift_batch_logs (id, started_at, finished_at, max_rows, processed, settled, failed, coins_settled, fees,
                                          streams, backlog_count, duration_ms, oldest_settled_lag_ms, oldest_pending_lag_ms)
  select v_batch_id, v_started, clock_timestamp(), v_max,
         count(*), count(*) filter (where b.status = 'settled'), count(*) filter (where b.status = 'failed'),
         coalesce(sum(b.coins) filter (where b.status = 'settled'), 0),
         coalesce(sum(b.fee_coins) filter (where b.status = 'settled'), 0),
         count(distinct b.stream_id) filter (where b.status = 'settled'),
         (select count(*) from app_private.gift_ledger g where g.status = 'pending'),
         extract(epoch from clock_timestamp() - v_started) * 1000,
         extract(epoch from v_started - min(b.created_at)) * 1000,
         extract(epoch from clock_timestamp() - v_oldest_pending) * 1000
    from pg_temp.gift_batch_rows b
  returning * into v_log;
  return v_log;
end;
$$;
comment on function app_private.process_gift_ledger_batch(integer) is
  'Settles up to max_rows pending gifts (default: setting gift_batch_size) in one transaction: FOR UPDATE SKIP LOCKED, one credit per receiver, fees, stats, one leaderboard event per stream, one gift_batch_logs row. Safe to run concurrently and after a crash (an uncommitted batch leaves its gifts pending).';

--------------------------------------------------------------------------------
-- Refunds and chargebacks: reversing entries, never edits
--------------------------------------------------------------------------------

create function app_private.reverse_gift(gift_ledger_id bigint, reason text) returns bigint
  language plpgsql volatile
  set search_path = ''
as $$
declare
  v_gift app_private.gift_ledger;
  v_tx bigint;
  v_net bigint;
begin
  if reason is null or char_length(btrim(reason)) not between 1 and 200 then
    raise exception 'a reason (1-200 characters) is required to reverse a gift' using errcode = 'BADIN';
  end if;
  select * into v_gift from app_private.gift_ledger g where g.id = reverse_gift.gift_ledger_id;
  if not found then
    raise exception 'gift ledger entry % not found', gift_ledger_id using errcode = 'NOFND';
  end if;
  if v_gift.status <> 'settled' then
    raise exception 'gift ledger entry % is %, only settled gifts can be reversed', gift_ledger_id, v_gift.status using errcode = 'CONFL';
  end if;
  -- Both wallets, in user id order (the same order settlement uses).
  perform 1 from app_private.wallets w where w.user_id in (v_gift.sender_id, v_gift.receiver_id) order by w.user_id for update;
  select t.id into v_tx from app_private.coin_transactions t where t.kind = 'gift_reversal' and t.reference = v_gift.id::text;
  if found then
    return v_tx;  -- already reversed
  end if;
  v_net := v_gift.coins - v_gift.fee_coins;
  if v_net > 0 then
    update app_private.wallets w set balance = w.balance - v_net, updated_at = now()
     where w.user_id = v_gift.receiver_id and w.balance >= v_net;
    if not found then
      raise exception 'insufficient funds: reversing gift % needs % coins from user %', v_gift.id, v_net, v_gift.receiver_id
        using errcode = 'INSFD';
    end if;
  end if;
  insert into app_private.wallets as w (user_id, balance) values (v_gift.sender_id, v_gift.coins)
    on conflict (user_id) do update set balance = w.balance + excluded.balance, updated_at = now();
  insert into app_private.coin_transactions (kind, debit_account, debit_user_id, credit_account, credit_user_id, amount, gift_ledger_id, reference, note)
    values ('gift_reversal', 'user', v_gift.receiver_id, 'user', v_gift.sender_id, greatest(v_net, 0), v_gift.id, v_gift.id::text, btrim(reason))
    returning id into v_tx;
  if v_gift.fee_coins > 0 then
    insert into app_private.coin_transactions (kind, debit_account, credit_account, credit_user_id, amount, gift_ledger_id, reference, note)
      values ('gift_fee_reversal', 'platform', 'user', v_gift.sender_id, v_gift.fee_coins, v_gift.id, v_gift.id::text, btrim(reason));
  end if;
  update app_public.broadcaster_stats s
     set coins = s.coins - v_gift.coins, earned_coins = s.earned_coins - v_net, gifts = s.gifts - v_gift.quantity, updated_at = now()
   where s.broadcaster_id = v_gift.receiver_id
     and (s.period, s.period_start) in (select p.period, app_public.period_start(p.period, v_gift.created_at)
                                          from (values ('day'), ('week'), ('month'), ('all_time')) p(period));
  update app_public.stream_gifter_stats s
     set coins = s.coins - v_gift.coins, gifts = s.gifts - v_gift.quantity, updated_at = now()
   where s.stream_id = v_gift.stream_id and s.gifter_id = v_gift.sender_id;
  update app_public.broadcaster_gifter_stats s
     set coins = s.coins - v_gift.coins, gifts = s.gifts - v_gift.quantity, updated_at = now()
   where s.broadcaster_id = v_gift.receiver_id and s.gifter_id = v_gift.sender_id;
  return v_tx;
end;
$$;
comment on function app_private.reverse_gift(bigint, text) is
  'Refund/chargeback of a settled gift: reversing entries (receiver -> sender net, platform -> sender fee) and stats decremented. Idempotent. Errors: NOFND, CONFL (not settled), INSFD (receiver already spent the coins), BADIN.';

--------------------------------------------------------------------------------
-- Leaderboards (materialised stats only: O(limit), independent of ledger size)
--------------------------------------------------------------------------------

create type app_public.leaderboard_entry as (
  rank integer,
  user_id uuid,
  username text,
  display_name text,
  avatar_url text,
  coins bigint,
  gifts bigint
);
comment on type app_public.leaderboard_entry is 'One leaderboard row: a broadcaster (by coins received) or a gifter (by coins spent).';

create function app_public.leaderboard(period text default 'week', "limit" integer default 10)
  returns app_public.leaderboard_entry[]
  language plpgsql stable
  set search_path = ''
as $$
begin
  if $1 is null or $1 not in ('day', 'week', 'month', 'all_time') then
    raise exception 'period must be day, week, month or all_time, got %', $1 using errcode = 'BADIN';
  end if;
  if $2 is null or $2 not between 1 and 100 then
    raise exception 'limit must be between 1 and 100, got %', $2 using errcode = 'BADIN';
  end if;
  return array(
    select row((row_number() over (order by t.coins desc, t.broadcaster_id))::integer, t.broadcaster_id, u.username, u.display_name,
               u.avatar_url, t.coins, t.gifts)::app_public.leaderboard_entry
      from (select s.broadcaster_id, s.coins, s.gifts from app_public.broadcaster_stats s
             where s.period = $1 and s.period_start = app_public.period_start($1, now()) and s.coins > 0
             order by s.coins desc, s.broadcaster_id limit $2) t
      join app_public.users u on u.id = t.broadcaster_id
     order by t.coins desc, t.broadcaster_id);
end;
$$;
grant execute on function app_public.leaderboard(text, integer) to anon, authenticated;
comment on function app_public.leaderboard(text, integer) is
  E'Top broadcasters by coins received in the current period (day, week, month, all_time; UTC boundaries). Reads only materialised stats. Errors: BADIN.';

create function app_public.top_gifters(stream_id uuid, "limit" integer default 10)
  returns app_public.leaderboard_entry[]
  language plpgsql stable
  set search_path = ''
as $$
begin
  if $2 is null or $2 not between 1 and 100 then
    raise exception 'limit must be between 1 and 100, got %', $2 using errcode = 'BADIN';
  end if;
  return array(
    select row((row_number() over (order by t.coins desc, t.gifter_id))::integer, t.gifter_id, u.username, u.display_name,
               u.avatar_url, t.coins, t.gifts)::app_public.leaderboard_entry
      from (select s.gifter_id, s.coins, s.gifts from app_public.stream_gifter_stats s
             where s.stream_id = $1 and s.coins > 0
             order by s.coins desc, s.gifter_id limit $2) t
      join app_public.users u on u.id = t.gifter_id
     order by t.coins desc, t.gifter_id);
end;
$$;
grant execute on function app_public.top_gifters(uuid, integer) to anon, authenticated;
comment on function app_public.top_gifters(uuid, integer) is
  E'Top gifters of one stream by coins spent (settled gifts). Errors: BADIN.';

create function app_public.top_gifters_of_broadcaster(broadcaster_id uuid, "limit" integer default 10)
  returns app_public.leaderboard_entry[]
  language plpgsql stable
  set search_path = ''
as $$
begin
  if $2 is null or $2 not between 1 and 100 then
    raise exception 'limit must be between 1 and 100, got %', $2 using errcode = 'BADIN';
  end if;
  return array(
    select row((row_number() over (order by t.coins desc, t.gifter_id))::integer, t.gifter_id, u.username, u.display_name,
               u.avatar_url, t.coins, t.gifts)::app_public.leaderboard_entry
      from (select s.gifter_id, s.coins, s.gifts from app_public.broadcaster_gifter_stats s
             where s.broadcaster_id = $1 and s.coins > 0
             order by s.coins desc, s.gifter_id limit $2) t
      join app_public.users u on u.id = t.gifter_id
     order by t.coins desc, t.gifter_id);
end;
$$;
grant execute on function app_public.top_gifters_of_broadcaster(uuid, integer) to anon, authenticated;
comment on function app_public.top_gifters_of_broadcaster(uuid, integer) is
  E'A broadcaster''s top gifters of all time by coins spent (settled gifts). Errors: BADIN.';

create function app_public.gift_batch_logs("limit" integer default 50) returns app_public.gift_batch_logs[]
  language plpgsql stable
  set search_path = ''
as $$
begin
  if not exists (select 1 from app_public.users u where u.id = app_public.current_user_id() and u.role = 'admin') then
    raise exception 'only admins may read gift batch logs' using errcode = 'DENYD';
  end if;
  if $1 is null or $1 not between 1 and 1000 then
    raise exception 'limit must be between 1 and 1000, got %', $1 using errcode = 'BADIN';
  end if;
  return array(select l from app_public.gift_batch_logs l order by l.id desc limit $1);
end;
$$;
grant execute on function app_public.gift_batch_logs(integer) to authenticated;
comment on function app_public.gift_batch_logs(integer) is
  E'@name giftBatchLogs\nAdmins: the most recent settlement batches, newest first (batch health). Errors: DENYD, BADIN.';

--------------------------------------------------------------------------------
-- Audit: zero rows = healthy
--------------------------------------------------------------------------------

create function app_private.gift_audit() returns table (invariant text, detail text)
  language sql stable
  set search_path = ''
as $$
  -- Every wallet equals the sum of its entries in the journal.
  select 'wallet = journal', format('user %s: wallet %s, journal %s', coalesce(w.user_id, e.user_id), coalesce(w.balance, 0), coalesce(e.total, 0))
    from app_private.wallets w
    full join (select ce.user_id, sum(ce.amount) as total from app_private.coin_entries ce where ce.account = 'user' group by ce.user_id) e
      on e.user_id = w.user_id
   where coalesce(w.balance, 0) <> coalesce(e.total, 0)
  union all
  -- Escrow holds exactly the pending gifts.
  select 'escrow = pending gifts', format('escrow %s, pending %s', e.total, p.total)
    from (select coalesce(sum(ce.amount), 0) as total from app_private.coin_entries ce where ce.account = 'escrow') e,
         (select coalesce(sum(g.coins), 0) as total from app_private.gift_ledger g where g.status = 'pending') p
   where e.total <> p.total
  union all
  -- Conservation: wallets + pending + platform = coins issued.
  select 'coins conserved', format('wallets %s + pending %s + platform %s <> issued %s', w.total, p.total, f.total, i.total)
    from (select coalesce(sum(balance), 0) as total from app_private.wallets) w,
         (select coalesce(sum(g.coins), 0) as total from app_private.gift_ledger g where g.status = 'pending') p,
         (select coalesce(sum(ce.amount), 0) as total from app_private.coin_entries ce where ce.account = 'platform') f,
         (select coalesce(-sum(ce.amount), 0) as total from app_private.coin_entries ce where ce.account = 'issuer') i
   where w.total + p.total + f.total <> i.total
  union all
  -- Settled gifts: each one credited exactly once (receiver credits per batch = net of that batch's gifts).
  select 'batch credits = settled gifts', format('batch %s receiver %s: credited %s, settled net %s', coalesce(c.batch_id, g.batch_id),
                                                coalesce(c.user_id, g.receiver_id), coalesce(c.total, 0), coalesce(g.total, 0))
    from (select t.batch_id, t.credit_user_id as user_id, sum(t.amount) as total from app_private.coin_transactions t
           where t.kind = 'gift_settlement' group by 1, 2) c
    full join (select g.batch_id, g.receiver_id, sum(g.coins - g.fee_coins) as total from app_private.gift_ledger g
                where g.status = 'settled' and g.coins > g.fee_coins group by 1, 2) g
      on g.batch_id = c.batch_id and g.receiver_id = c.user_id
   where coalesce(c.total, 0) <> coalesce(g.total, 0)
  union all
  -- Every settled/failed gift belongs to a logged batch.
  select 'gift in a logged batch', format('gift %s batch %s', g.id, g.batch_id)
    from app_private.gift_ledger g
   where g.batch_id is not null and not exists (select 1 from app_public.gift_batch_logs l where l.id = g.batch_id)
  union all
  -- Stats equal aggregates recomputed from the ledger (settled gifts, minus reversed ones).
  select 'broadcaster_stats = ledger', format('%s %s %s: stats %s/%s/%s, ledger %s/%s/%s', coalesce(s.broadcaster_id, l.receiver_id),
         coalesce(s.period, l.period), coalesce(s.period_start, l.period_start), s.coins, s.earned_coins, s.gifts, l.coins, l.earned, l.gifts)
    from app_public.broadcaster_stats s
    full join (
      select g.receiver_id, p.period, app_public.period_start(p.period, g.created_at) as period_start,
             sum(g.coins) as coins, sum(g.coins - g.fee_coins) as earned, sum(g.quantity) as gifts
        from app_private.gift_ledger g cross join (values ('day'), ('week'), ('month'), ('all_time')) p(period)
       where g.status = 'settled'
         and not exists (select 1 from app_private.coin_transactions t where t.kind = 'gift_reversal' and t.gift_ledger_id = g.id)
       group by 1, 2, 3) l
      on l.receiver_id = s.broadcaster_id and l.period = s.period and l.period_start = s.period_start
   where (coalesce(s.coins, 0), coalesce(s.earned_coins, 0), coalesce(s.gifts, 0)) <> (coalesce(l.coins, 0), coalesce(l.earned, 0), coalesce(l.gifts, 0))
  union all
  select 'stream_gifter_stats = ledger', format('stream %s gifter %s: stats %s, ledger %s', coalesce(s.stream_id, l.stream_id),
         coalesce(s.gifter_id, l.sender_id), s.coins, l.coins)
    from app_public.stream_gifter_stats s
    full join (
      select g.stream_id, g.sender_id, sum(g.coins) as coins, sum(g.quantity) as gifts
        from app_private.gift_ledger g
       where g.status = 'settled'
         and not exists (select 1 from app_private.coin_transactions t where t.kind = 'gift_reversal' and t.gift_ledger_id = g.id)
       group by 1, 2) l
      on l.stream_id = s.stream_id and l.sender_id = s.gifter_id
   where (coalesce(s.coins, 0), coalesce(s.gifts, 0)) <> (coalesce(l.coins, 0), coalesce(l.gifts, 0))
  union all
  select 'broadcaster_gifter_stats = ledger', format('broadcaster %s gifter %s: stats %s, ledger %s', coalesce(s.broadcaster_id, l.receiver_id),
         coalesce(s.gifter_id, l.sender_id), s.coins, l.coins)
    from app_public.broadcaster_gifter_stats s
    full join (
      select g.receiver_id, g.sender_id, sum(g.coins) as coins, sum(g.quantity) as gifts
        from app_private.gift_ledger g
       where g.status = 'settled'
         and not exists (select 1 from app_private.coin_transactions t where t.kind = 'gift_reversal' and t.gift_ledger_id = g.id)
       group by 1, 2) l
      on l.receiver_id = s.broadcaster_id and l.sender_id = s.gifter_id
   where (coalesce(s.coins, 0), coalesce(s.gifts, 0)) <> (coalesce(l.coins, 0), coalesce(l.gifts, 0))
$$;
comment on function app_private.gift_audit() is
  'Invariants of the gift economy; each row returned is a violation (zero rows = healthy). Full scans: run it in tests and audits, not per request.';
