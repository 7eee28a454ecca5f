--! Previous: sha1:f51561dbb0724b0e30529fb3729c632eaa44daaa
--! Hash: sha1:67d7152912ebf55719f186f305df1ad09d41603c
--! Message: settlement queue: settle without touching ledger rows

--! split: 100-settlement-queue.sql
--! split: 100-settlement-queue.sql
-- Settlement without touching ledger rows.
--
-- Measured (docs/benchmarks.md, 2026-11-22): settling a 10,000-gift batch spent ~340 ms marking
-- ledger rows settled (a non-HOT UPDATE per row: the `status = 'pending'` partial index forces a new
-- entry in all seven indexes) and ~330 ms on the broadcaster_stats upsert (four non-inlined
-- period_start() calls per gift before aggregating). Settlement ran at ~12k gifts/s against a budget
-- of 100k/s (DESIGN §5).
--
-- Now:
-- * `gift_ledger` is strictly append-only (every UPDATE is refused, not just the illegal ones); it has
--   no status, batch or settled-at columns any more.
-- * Every ledger insert queues the gift in `gift_settlement_queue` (an AFTER INSERT trigger, so no
--   code path can append a gift and forget to queue it). The queue row carries what settlement needs;
--   settlement takes rows with FOR UPDATE SKIP LOCKED and DELETEs them (no index entry to add, no
--   ledger row to rewrite).
-- * Each batch records which gifts it settled or failed as id ranges (`gift_batch_items`, one
--   int8multirange per outcome: consecutive ids collapse to one range). `gift_ledger_status` and
--   `gift_status(id)` give the status of any gift; `gift_audit()` checks every gift has exactly one
--   fate (queued, or in exactly one batch) and that queue rows equal their ledger rows.
-- * Stats are aggregated per receiver and UTC day first; week, month and all_time buckets are derived
--   from those few rows with inline date_trunc (no function call per gift).

--------------------------------------------------------------------------------
-- Re-runnable: functions and views are replaced; tables holding data are created once.
--------------------------------------------------------------------------------
drop view if exists app_private.gift_ledger_status;
drop view if exists app_private.gift_outcomes;
drop function if exists app_private.gift_status(bigint);
drop trigger if exists _300_queue_for_settlement on app_private.gift_ledger;
drop function if exists app_private.tg_gift_ledger__queue();

create table if not exists app_private.gift_settlement_queue (
  gift_ledger_id bigint primary key,
  sender_id uuid not null,
  receiver_id uuid not null,
  stream_id uuid not null,
  quantity integer not null,
  coins bigint not null,
  fee_coins bigint not null,
  created_at timestamptz not null
);
comment on table app_private.gift_settlement_queue is
  'Accepted gifts waiting for settlement: a copy of what settlement needs from each gift_ledger row, queued by trigger on insert and deleted by the batch that settles it. Escrow holds exactly these coins.';

create table if not exists app_private.gift_batch_items (
  batch_id bigint not null references app_public.gift_batch_logs (id) on delete restrict,
  outcome text not null check (outcome in ('settled', 'failed')),
  gift_ids int8multirange not null check (not isempty(gift_ids)),
  primary key (batch_id, outcome)
);
create index if not exists gift_batch_items_gift_ids_idx on app_private.gift_batch_items using gist (gift_ids);
comment on table app_private.gift_batch_items is
  'Which gifts each settlement batch settled (credited) or failed (refunded), as ranges of gift_ledger ids. Append-only.';

drop trigger if exists _200_append_only on app_private.gift_batch_items;
create trigger _200_append_only before update or delete on app_private.gift_batch_items
  for each row execute function app_private.tg__append_only();
drop trigger if exists _200_append_only_truncate on app_private.gift_batch_items;
create trigger _200_append_only_truncate before truncate on app_private.gift_batch_items
  for each statement execute function app_private.tg__append_only();

-- Move the state out of the ledger (only on the first run: afterwards the columns are gone).
do $$
begin
  if exists (select 1 from information_schema.columns
              where table_schema = 'app_private' and table_name = 'gift_ledger' and column_name = 'status') then
    insert into app_private.gift_settlement_queue (gift_ledger_id, sender_id, receiver_id, stream_id, quantity, coins, fee_coins, created_at)
    select g.id, g.sender_id, g.receiver_id, g.stream_id, g.quantity, g.coins, g.fee_coins, g.created_at
      from app_private.gift_ledger g where g.status = 'pending';
    insert into app_private.gift_batch_items (batch_id, outcome, gift_ids)
    select g.batch_id, g.status, range_agg(int8range(g.id, g.id, '[]'))
      from app_private.gift_ledger g where g.status <> 'pending'
     group by 1, 2;
    drop trigger _200_append_only on app_private.gift_ledger;
    drop index app_private.gift_ledger_pending_idx;
    alter table app_private.gift_ledger drop column status, drop column batch_id, drop column settled_at;
  end if;
end;
$$;

-- The ledger: no UPDATE at all any more.
drop trigger if exists _200_append_only on app_private.gift_ledger;
create trigger _200_append_only before update on app_private.gift_ledger
  for each row execute function app_private.tg__append_only();
comment on table app_private.gift_ledger is
  'Every accepted gift, appended by send_gift (it is also the journal entry of the hold: sender -> escrow). Never edited: its settlement is recorded in gift_batch_items, its status is gift_ledger_status.';

create function app_private.tg_gift_ledger__queue() returns trigger
  language plpgsql
  set search_path = ''
as $$
begin
  insert into app_private.gift_settlement_queue (gift_ledger_id, sender_id, receiver_id, stream_id, quantity, coins, fee_coins, created_at)
    values (new.id, new.sender_id, new.receiver_id, new.stream_id, new.quantity, new.coins, new.fee_coins, new.created_at);
  return null;
end;
$$;
comment on function app_private.tg_gift_ledger__queue() is 'Queues every appended gift for settlement, in the same transaction.';
create trigger _300_queue_for_settlement after insert on app_private.gift_ledger
  for each row execute function app_private.tg_gift_ledger__queue();

--------------------------------------------------------------------------------
-- Period buckets, inlinable
--------------------------------------------------------------------------------

-- Same buckets as before, written so the planner can inline the function (it was a third of
-- settlement's and most of gift_audit()'s time: ~8 µs per call, re-planned each time). Inlining
-- needs a body of immutable functions only (date_trunc with a time zone argument is merely stable;
-- timezone() and date_trunc on a plain timestamp are immutable) and no SET clause, so every name is
-- schema-qualified instead. Not SECURITY DEFINER (STYLE: only those must pin search_path).
create or replace function app_public.period_start(period text, at timestamptz default now()) returns timestamptz
  language sql immutable parallel safe
as $$
  select case period
    when 'day' then pg_catalog.timezone('UTC', pg_catalog.date_trunc('day', pg_catalog.timezone('UTC', at)))
    when 'week' then pg_catalog.timezone('UTC', pg_catalog.date_trunc('week', pg_catalog.timezone('UTC', at)))
    when 'month' then pg_catalog.timezone('UTC', pg_catalog.date_trunc('month', pg_catalog.timezone('UTC', at)))
    when 'all_time' then timestamptz '1970-01-01 00:00:00+00'
  end
$$;

--------------------------------------------------------------------------------
-- Status of a gift: pending (queued) or the outcome of the one batch that took it
--------------------------------------------------------------------------------

-- One row per gift a batch took: the batch's ranges expanded to ids (audits, tests, reports).
create view app_private.gift_outcomes as
  select s.id as gift_ledger_id, i.batch_id, i.outcome, l.started_at as settled_at
    from app_private.gift_batch_items i
    join app_public.gift_batch_logs l on l.id = i.batch_id
   cross join lateral unnest(i.gift_ids) r(ids)
   cross join lateral generate_series(lower(r.ids), upper(r.ids) - 1) s(id);
comment on view app_private.gift_outcomes is 'Every gift a settlement batch took, with its outcome (settled or failed) and the batch''s start time.';

create view app_private.gift_ledger_status as
  select g.*,
         case when q.gift_ledger_id is not null then 'pending' else o.outcome end as status,
         o.batch_id, o.settled_at
    from app_private.gift_ledger g
    left join app_private.gift_settlement_queue q on q.gift_ledger_id = g.id
    left join app_private.gift_outcomes o on o.gift_ledger_id = g.id;
comment on view app_private.gift_ledger_status is
  'The ledger with each gift''s status (pending, settled, failed), batch and settlement time. Scans all batches: for one gift use gift_status(id).';

create function app_private.gift_status(gift_ledger_id bigint, out status text, out batch_id bigint, out settled_at timestamptz)
  language plpgsql stable
  set search_path = ''
as $$
begin
  if exists (select 1 from app_private.gift_settlement_queue q where q.gift_ledger_id = gift_status.gift_ledger_id) then
    status := 'pending';
    return;
  end if;
  select i.outcome, i.batch_id, l.started_at into status, batch_id, settled_at
    from app_private.gift_batch_items i join app_public.gift_batch_logs l on l.id = i.batch_id
   where i.gift_ids @> gift_status.gift_ledger_id;
end;
$$;
comment on function app_private.gift_status(bigint) is
  'Status of one gift: pending while queued, else settled/failed with the batch (index lookup). Null status: no such gift.';

--------------------------------------------------------------------------------
-- Sending: receipts read the status from the queue/batches
--------------------------------------------------------------------------------

create or replace function app_private.gift_receipt_for(g app_private.gift_ledger, stream_id uuid, gift_id uuid, quantity integer)
  returns app_public.gift_receipt
  language plpgsql stable
  set search_path = ''
as $$
begin
  if (g.stream_id, g.gift_id, g.quantity) is distinct from (gift_receipt_for.stream_id, gift_receipt_for.gift_id, gift_receipt_for.quantity) then
    raise exception 'idempotency key "%" was already used for another gift (ledger entry %)', g.idempotency_key, g.id
      using errcode = 'IDEMP';
  end if;
  return row(g.id, g.stream_id, g.gift_id, g.quantity, g.coins, (app_private.gift_status(g.id)).status,
             (select w.balance from app_private.wallets w where w.user_id = g.sender_id), true, g.created_at)::app_public.gift_receipt;
end;
$$;

create or replace function app_public.send_gift(stream_id uuid, gift_id uuid, quantity integer default 1, idempotency_key text default null)
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

  -- The debit first: the sender's own row only. No row, or too little: nothing is recorded (and no
  -- ledger id is spent on a gift that is refused).
  v_coins := v_gift.coin_price::bigint * send_gift.quantity;
  update app_private.wallets w set balance = w.balance - v_coins, updated_at = now()
   where w.user_id = v_uid and w.balance >= v_coins
   returning w.balance into v_balance;
  if not found then
    raise exception 'insufficient funds: % × "%" costs % coins, user % has %', send_gift.quantity, v_gift.name, v_coins,
      v_sender.username, coalesce((select w.balance from app_private.wallets w where w.user_id = v_uid), 0)
      using errcode = 'INSFD';
  end if;

  -- The hold (sender -> escrow); the trigger queues it for settlement.
  insert into app_private.gift_ledger (sender_id, receiver_id, stream_id, gift_id, quantity, unit_price, coins, fee_coins, idempotency_key)
    values (v_uid, v_stream.broadcaster_id, v_stream.id, v_gift.id, send_gift.quantity, v_gift.coin_price, v_coins,
            v_coins * app_private.gift_setting('gift_fee_bps', 2000) / 10000, send_gift.idempotency_key)
    on conflict (sender_id, idempotency_key) where idempotency_key is not null do nothing
    returning * into v_row;
  if not found then
    -- A concurrent request with the same key committed first: undo this debit (the whole function
    -- runs in the caller's transaction, so raise-and-catch would cost a subtransaction; a reverse
    -- update of the row we already hold is cheaper) and answer as its replay.
    update app_private.wallets w set balance = w.balance + v_coins, updated_at = now() where w.user_id = v_uid;
    select * into v_row from app_private.gift_ledger g
     where g.sender_id = v_uid and g.idempotency_key = send_gift.idempotency_key;
    return app_private.gift_receipt_for(v_row, send_gift.stream_id, send_gift.gift_id, send_gift.quantity);
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

  return row(v_row.id, v_row.stream_id, v_row.gift_id, v_row.quantity, v_row.coins, 'pending', v_balance, false, v_row.created_at)::app_public.gift_receipt;
end;
$$;

--------------------------------------------------------------------------------
-- Settlement
--------------------------------------------------------------------------------

create or replace function app_private.process_gift_ledger_batch(max_rows integer default null) returns app_public.gift_batch_logs
  language plpgsql volatile
  set search_path = ''
  set jit = off  -- a batch is a few short statements; compiling them costs more than it saves
as $$
declare
  v_max integer := coalesce(max_rows, app_private.gift_setting('gift_batch_size', 10000));
  v_started timestamptz := clock_timestamp();
  v_batch_id bigint := nextval(pg_get_serial_sequence('app_public.gift_batch_logs', 'id'));
  v_log app_public.gift_batch_logs;
  v_settled_ids int8multirange;
  v_failed_ids int8multirange;
  v_oldest_pending timestamptz;
begin
  if v_max is null or v_max not between 1 and 1000000 then
    raise exception 'max_rows must be between 1 and 1000000, got %', v_max using errcode = 'BADIN';
  end if;
  -- Scratch space: this batch's gifts summed per (receiver, sender, stream, UTC day, outcome), a few
  -- hundred rows however large the batch. Kept for the session (plans stay cached), emptied at
  -- commit and at the start of each batch (a test may run two batches in one transaction).
  create temp table if not exists gift_batch_sums (
    receiver_id uuid, sender_id uuid, stream_id uuid, day timestamptz, settled boolean,
    gifts bigint, coins bigint, fee_coins bigint, quantity bigint, oldest timestamptz
  ) on commit delete rows;
  delete from pg_temp.gift_batch_sums;

  -- 1. Take queued gifts in arrival order (rows other batches hold are skipped), delete them from the
  --    queue, sum them, and keep their ids as ranges. Gifts to banned receivers fail (refunded below).
  --    The only per-gift work in the whole batch happens in this one statement.
  with picked as (
    select q.ctid as row_id from app_private.gift_settlement_queue q
     order by q.gift_ledger_id
     limit v_max
     for update skip locked
  ), taken as (
    delete from app_private.gift_settlement_queue q
     where q.ctid = any (array(select p.row_id from picked p))
    returning q.*
  ), banned as (
    select u.id from app_public.users u
     where u.is_banned and u.id in (select distinct t.receiver_id from taken t)
  ), judged as (
    select t.*, t.receiver_id not in (select b.id from banned b) as settled from taken t
  ), sums as (
    insert into pg_temp.gift_batch_sums
    select j.receiver_id, j.sender_id, j.stream_id, pg_catalog.timezone('UTC', pg_catalog.date_trunc('day', pg_catalog.timezone('UTC', j.created_at))),
           j.settled, count(*), sum(j.coins), sum(j.fee_coins), sum(j.quantity), min(j.created_at)
      from judged j
     group by 1, 2, 3, 4, 5
  )
  select range_agg(int8range(j.gift_ledger_id, j.gift_ledger_id, '[]')) filter (where j.settled),
         range_agg(int8range(j.gift_ledger_id, j.gift_ledger_id, '[]')) filter (where not j.settled)
    into v_settled_ids, v_failed_ids
    from judged j;

  -- 2. Wallet credits: one per user per batch, in user id order (receivers' net coins, refunds to senders).
  insert into app_private.wallets as w (user_id, balance)
  select c.user_id, sum(c.amount)
    from (select b.receiver_id as user_id, b.coins - b.fee_coins as amount from pg_temp.gift_batch_sums b where b.settled
          union all
          select b.sender_id, b.coins from pg_temp.gift_batch_sums b where not b.settled) c
   group by c.user_id
  having sum(c.amount) > 0
   order by c.user_id
  on conflict (user_id) do update set balance = w.balance + excluded.balance, updated_at = now();

  -- 3. The journal: escrow -> receiver (net), escrow -> platform (fees), escrow -> sender (refunds).
  insert into app_private.coin_transactions (kind, debit_account, credit_account, credit_user_id, amount, batch_id)
  select 'gift_settlement', 'escrow', 'user', b.receiver_id, sum(b.coins - b.fee_coins), v_batch_id
    from pg_temp.gift_batch_sums b where b.settled
   group by b.receiver_id having sum(b.coins - b.fee_coins) > 0
  union all
  select 'gift_fee', 'escrow', 'platform', null, sum(b.fee_coins), v_batch_id
    from pg_temp.gift_batch_sums b where b.settled having sum(b.fee_coins) > 0
  union all
  select 'gift_refund', 'escrow', 'user', b.sender_id, sum(b.coins), v_batch_id
    from pg_temp.gift_batch_sums b where not b.settled
   group by b.sender_id;

  -- 4. Materialised stats, each in key order. Buckets by the time the gift was sent (UTC): week,
  --    month and all_time derive from the day (inline, no function call per row).
  insert into app_public.broadcaster_stats as s (broadcaster_id, period, period_start, coins, earned_coins, gifts)
  select b.receiver_id, p.period, p.period_start, sum(b.coins), sum(b.coins - b.fee_coins), sum(b.quantity)
    from pg_temp.gift_batch_sums b
   cross join lateral (values ('day', b.day),
                              ('week', pg_catalog.timezone('UTC', pg_catalog.date_trunc('week', pg_catalog.timezone('UTC', b.day)))),
                              ('month', pg_catalog.timezone('UTC', pg_catalog.date_trunc('month', pg_catalog.timezone('UTC', b.day)))),
                              ('all_time', timestamptz '1970-01-01 00:00:00+00')) p(period, period_start)
   where b.settled
   group by 2, 3, 1
   order by 2, 3, 1
  on conflict (period, period_start, broadcaster_id) do update
     set coins = s.coins + excluded.coins, earned_coins = s.earned_coins + excluded.earned_coins,
         gifts = s.gifts + excluded.gifts, updated_at = now();

  insert into app_public.stream_gifter_stats as s (stream_id, gifter_id, coins, gifts)
  select b.stream_id, b.sender_id, sum(b.coins), sum(b.quantity)
    from pg_temp.gift_batch_sums b where b.settled
   group by 1, 2 order by 1, 2
  on conflict (stream_id, gifter_id) do update
     set coins = s.coins + excluded.coins, gifts = s.gifts + excluded.gifts, updated_at = now();

  insert into app_public.broadcaster_gifter_stats as s (broadcaster_id, gifter_id, coins, gifts)
  select b.receiver_id, b.sender_id, sum(b.coins), sum(b.quantity)
    from pg_temp.gift_batch_sums b where b.settled
   group by 1, 2 order by 1, 2
  on conflict (broadcaster_id, gifter_id) do update
     set coins = s.coins + excluded.coins, gifts = s.gifts + excluded.gifts, updated_at = now();

  -- 5. One leaderboard event per affected stream (through the outbox; never NOTIFY here).
  perform app_private.publish_stream_event(a.stream_id, 'leaderboard',
                                           app_private.stream_leaderboard_event(a.stream_id, a.receiver_id, v_batch_id))
     from (select distinct b.stream_id, b.receiver_id from pg_temp.gift_batch_sums b where b.settled) a;

  -- 6. The batch log, then which gifts it took (as id ranges).
  select q.created_at into v_oldest_pending from app_private.gift_settlement_queue q order by q.gift_ledger_id limit 1;
  insert into app_public.gift_batch_logs (id, started_at, finished_at, max_rows, processed, settled, failed, coins_settled, fees,
                                          streams, backlog_count, duration_ms, oldest_settled_lag_ms, oldest_pending_lag_ms)
  select v_batch_id, v_started, clock_timestamp(), v_max,
         coalesce(sum(b.gifts), 0), coalesce(sum(b.gifts) filter (where b.settled), 0), coalesce(sum(b.gifts) filter (where not b.settled), 0),
         coalesce(sum(b.coins) filter (where b.settled), 0),
         coalesce(sum(b.fee_coins) filter (where b.settled), 0),
         count(distinct b.stream_id) filter (where b.settled),
         (select count(*) from app_private.gift_settlement_queue),
         extract(epoch from clock_timestamp() - v_started) * 1000,
         extract(epoch from v_started - min(b.oldest)) * 1000,
         extract(epoch from clock_timestamp() - v_oldest_pending) * 1000
    from pg_temp.gift_batch_sums b
  returning * into v_log;
  insert into app_private.gift_batch_items (batch_id, outcome, gift_ids)
  select v_batch_id, o.outcome, o.ids
    from (values ('settled', v_settled_ids), ('failed', v_failed_ids)) o(outcome, ids)
   where o.ids is not null;
  return v_log;
end;
$$;

--------------------------------------------------------------------------------
-- Reversals: only settled gifts
--------------------------------------------------------------------------------

create or replace function app_private.reverse_gift(gift_ledger_id bigint, reason text) returns bigint
  language plpgsql volatile
  set search_path = ''
as $$
declare
  v_gift app_private.gift_ledger;
  v_status text;
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
  -- Lock the queue row too (if any), so a batch cannot settle the gift while we look at it.
  perform 1 from app_private.gift_settlement_queue q where q.gift_ledger_id = v_gift.id for update;
  v_status := (app_private.gift_status(v_gift.id)).status;
  if v_status is distinct from 'settled' then
    raise exception 'gift ledger entry % is %, only settled gifts can be reversed', gift_ledger_id, coalesce(v_status, 'unknown')
      using errcode = 'CONFL';
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

--------------------------------------------------------------------------------
-- Audit: zero rows = healthy
--------------------------------------------------------------------------------

create or replace function app_private.gift_audit() returns table (invariant text, detail text)
  language sql stable
  set search_path = ''
  set jit = off  -- JIT compiling this many joins costs more than running them at test and audit sizes
as $$
  with fates as (
    select g.id, g.receiver_id, g.sender_id, g.stream_id, g.coins, g.fee_coins, g.quantity, g.created_at,
           (q.gift_ledger_id is not null) as queued, o.n as outcomes, o.batch_id, o.outcome
      from app_private.gift_ledger g
      left join app_private.gift_settlement_queue q on q.gift_ledger_id = g.id
      left join (select o.gift_ledger_id, count(*) as n, min(o.batch_id) as batch_id, min(o.outcome) as outcome
                   from app_private.gift_outcomes o group by 1) o on o.gift_ledger_id = g.id
  ), settled as (
    select f.* from fates f
     where f.outcome = 'settled'
       and not exists (select 1 from app_private.coin_transactions t where t.kind = 'gift_reversal' and t.gift_ledger_id = f.id)
  )
  -- Every wallet equals the sum of its entries in the journal.
  select 'wallet = journal', format('user %s: wallet %s, journal %s', coalesce(w.user_id, e.user_id), coalesce(w.balance, 0), coalesce(e.total, 0))
    from app_private.wallets w
    full join (select ce.user_id, sum(ce.amount) as total from app_private.coin_entries ce where ce.account = 'user' group by ce.user_id) e
      on e.user_id = w.user_id
   where coalesce(w.balance, 0) <> coalesce(e.total, 0)
  union all
  -- Escrow holds exactly the queued gifts.
  select 'escrow = pending gifts', format('escrow %s, pending %s', e.total, p.total)
    from (select coalesce(sum(ce.amount), 0) as total from app_private.coin_entries ce where ce.account = 'escrow') e,
         (select coalesce(sum(q.coins), 0) as total from app_private.gift_settlement_queue q) p
   where e.total <> p.total
  union all
  -- Conservation: wallets + pending + platform = coins issued.
  select 'coins conserved', format('wallets %s + pending %s + platform %s <> issued %s', w.total, p.total, f.total, i.total)
    from (select coalesce(sum(balance), 0) as total from app_private.wallets) w,
         (select coalesce(sum(q.coins), 0) as total from app_private.gift_settlement_queue q) p,
         (select coalesce(sum(ce.amount), 0) as total from app_private.coin_entries ce where ce.account = 'platform') f,
         (select coalesce(-sum(ce.amount), 0) as total from app_private.coin_entries ce where ce.account = 'issuer') i
   where w.total + p.total + f.total <> i.total
  union all
  -- Exactly once: every gift is either queued or taken by exactly one batch.
  select 'gift has exactly one fate', format('gift %s: queued %s, taken by %s batches', f.id, f.queued, coalesce(f.outcomes, 0))
    from fates f
   where f.queued::int + coalesce(f.outcomes, 0) <> 1
  union all
  select 'queue/batch entries name ledger gifts', format('gift %s', x.id)
    from (select q.gift_ledger_id as id from app_private.gift_settlement_queue q
          union all
          select o.gift_ledger_id from app_private.gift_outcomes o) x
   where not exists (select 1 from app_private.gift_ledger g where g.id = x.id)
  union all
  -- Queue rows are exact copies of their ledger rows.
  select 'queue row = ledger row', format('gift %s', q.gift_ledger_id)
    from app_private.gift_settlement_queue q
    join app_private.gift_ledger g on g.id = q.gift_ledger_id
   where (q.sender_id, q.receiver_id, q.stream_id, q.quantity, q.coins, q.fee_coins, q.created_at)
         is distinct from (g.sender_id, g.receiver_id, g.stream_id, g.quantity, g.coins, g.fee_coins, g.created_at)
  union all
  -- Settled gifts: each one credited exactly once (receiver credits per batch = net of that batch's gifts).
  select 'batch credits = settled gifts', format('batch %s receiver %s: credited %s, settled net %s', coalesce(c.batch_id, g.batch_id),
                                                coalesce(c.user_id, g.receiver_id), coalesce(c.total, 0), coalesce(g.total, 0))
    from (select t.batch_id, t.credit_user_id as user_id, sum(t.amount) as total from app_private.coin_transactions t
           where t.kind = 'gift_settlement' group by 1, 2) c
    full join (select f.batch_id, f.receiver_id, sum(f.coins - f.fee_coins) as total from fates f
                where f.outcome = 'settled' and f.coins > f.fee_coins group by 1, 2) g
      on g.batch_id = c.batch_id and g.receiver_id = c.user_id
   where coalesce(c.total, 0) <> coalesce(g.total, 0)
  union all
  -- Stats equal aggregates recomputed from the ledger (settled gifts, minus reversed ones).
  select 'broadcaster_stats = ledger', format('%s %s %s: stats %s/%s/%s, ledger %s/%s/%s', coalesce(s.broadcaster_id, l.receiver_id),
         coalesce(s.period, l.period), coalesce(s.period_start, l.period_start), s.coins, s.earned_coins, s.gifts, l.coins, l.earned, l.gifts)
    from app_public.broadcaster_stats s
    full join (
      select g.receiver_id, p.period, app_public.period_start(p.period, g.created_at) as period_start,
             sum(g.coins) as coins, sum(g.coins - g.fee_coins) as earned, sum(g.quantity) as gifts
        from settled g cross join (values ('day'), ('week'), ('month'), ('all_time')) p(period)
       group by 1, 2, 3) l
      on l.receiver_id = s.broadcaster_id and l.period = s.period and l.period_start = s.period_start
   where (coalesce(s.coins, 0), coalesce(s.earned_coins, 0), coalesce(s.gifts, 0)) <> (coalesce(l.coins, 0), coalesce(l.earned, 0), coalesce(l.gifts, 0))
  union all
  select 'stream_gifter_stats = ledger', format('stream %s gifter %s: stats %s, ledger %s', coalesce(s.stream_id, l.stream_id),
         coalesce(s.gifter_id, l.sender_id), s.coins, l.coins)
    from app_public.stream_gifter_stats s
    full join (select g.stream_id, g.sender_id, sum(g.coins) as coins, sum(g.quantity) as gifts from settled g group by 1, 2) l
      on l.stream_id = s.stream_id and l.sender_id = s.gifter_id
   where (coalesce(s.coins, 0), coalesce(s.gifts, 0)) <> (coalesce(l.coins, 0), coalesce(l.gifts, 0))
  union all
  select 'broadcaster_gifter_stats = ledger', format('broadcaster %s gifter %s: stats %s, ledger %s', coalesce(s.broadcaster_id, l.receiver_id),
         coalesce(s.gifter_id, l.sender_id), s.coins, l.coins)
    from app_public.broadcaster_gifter_stats s
    full join (select g.receiver_id, g.sender_id, sum(g.coins) as coins, sum(g.quantity) as gifts from settled g group by 1, 2) l
      on l.receiver_id = s.broadcaster_id and l.sender_id = s.gifter_id
   where (coalesce(s.coins, 0), coalesce(s.gifts, 0)) <> (coalesce(l.coins, 0), coalesce(l.gifts, 0))
$$;
comment on function app_private.gift_audit() is
  'Invariants of the gift economy; each row returned is a violation (zero rows = healthy). Full scans: run it in tests and audits, not per request.';
