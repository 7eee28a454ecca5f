create or replace function app_private.process_gift_ledger_batch(max_rows integer default null) returns app_public.gift_batch_logs
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
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
  perform 'PRAGMA:TABLE: gift_batch_sums (receiver_id uuid, sender_id uuid, stream_id uuid, day timestamptz, settled boolean, gifts bigint, coins bigint, fee_coins bigint, quantity bigint, oldest timestamptz)';  -- for plpgsql_check
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
    select j.receiver_id, j.sender_id, j.stream_id, app_public.period_start('day', j.created_at),
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

  -- 4. Materialised stats, each in key order. Buckets by the time the gift was sent (UTC): every
  --    period's bucket of a gift is the bucket of its day (period_start() is inlined by the planner).
  insert into app_public.broadcaster_stats as s (broadcaster_id, period, period_start, coins, earned_coins, gifts)
  select b.receiver_id, p.period, app_public.period_start(p.period, b.day), sum(b.coins), sum(b.coins - b.fee_coins), sum(b.quantity)
    from pg_temp.gift_batch_sums b
   cross join (values ('day'), ('week'), ('month'), ('all_time')) p(period)
   where b.settled
   group by 2, 3, 1
   order by 2, 3, 1
  on conflict (period, period_start, broadcaster_id) do update
     set coins = s.coins + excluded.coins, earned_coins = s.earned_coins + excluded.earned_coins,
         gifts = s.gifts + excluded.gifts, updated_at = now();

  insert into app_public.gifter_stats as s (gifter_id, period, period_start, coins, gifts)
  select b.sender_id, p.period, app_public.period_start(p.period, b.day), sum(b.coins), sum(b.quantity)
    from pg_temp.gift_batch_sums b
   cross join (values ('day'), ('week'), ('month'), ('all_time')) p(period)
   where b.settled
   group by 2, 3, 1
   order by 2, 3, 1
  on conflict (period, period_start, gifter_id) do update
     set coins = s.coins + excluded.coins, gifts = s.gifts + excluded.gifts, updated_at = now();

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
revoke all on function app_private.process_gift_ledger_batch(max_rows integer) from public, anon, authenticated;
comment on function app_private.process_gift_ledger_batch(max_rows integer) is
  'Settles up to max_rows pending gifts (default: setting gift_batch_size) in one transaction: FOR UPDATE SKIP LOCKED, one credit per receiver, fees, stats, one leaderboard event per stream, one gift_batch_logs row. Safe to run concurrently and after a crash (an uncommitted batch leaves its gifts pending).';
