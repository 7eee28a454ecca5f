--! Previous: sha1:b26dd1793db3a51ba0841b1dcb15f738f25575d2
--! Hash: sha1:1eda3f0d7cc0bb04a3c3e704dc675fcdc40f3da1
--! Message: Web studio: stream details, earnings, gifter leaderboard, seat requests, stream-ended events

--! split: 700-web-studio.sql
-- The web studio and viewer pages (issue 12): a stream's category and thumbnail (set with
-- set_stream_details), the broadcaster's earnings per current period, a gifter leaderboard by period
-- (gifter_stats, materialised by settlement like broadcaster_stats) and playback_health readable by
-- the stream's broadcaster. Re-runnable.

--! Included streams/stream_categories.sql
create or replace function app_public.stream_categories() returns text[]
  language sql immutable parallel safe
  set search_path = pg_catalog, pg_temp
as $$
  select array['just_chatting', 'music', 'gaming', 'irl', 'talk_show', 'creative', 'sports']
$$;
revoke all on function app_public.stream_categories() from public, anon, authenticated;
grant execute on function app_public.stream_categories() to anon, authenticated;
comment on function app_public.stream_categories() is
  'The categories a stream may have (streams.category), in display order.';
--! EndIncluded streams/stream_categories.sql
--! Included streams/stream_category_valid.sql
create or replace function app_hidden.stream_category_valid(category text) returns boolean
  language sql immutable parallel safe
  set search_path = pg_catalog, pg_temp
as $$
  select $1 = any (app_public.stream_categories())
$$;
revoke all on function app_hidden.stream_category_valid(category text) from public, anon, authenticated;
grant execute on function app_hidden.stream_category_valid(category text) to anon, authenticated;
comment on function app_hidden.stream_category_valid(category text) is
  'Whether a category is one of stream_categories() (the streams_category_check constraint).';
--! EndIncluded streams/stream_category_valid.sql
--! Included streams/stream_thumbnail_url_valid.sql
create or replace function app_hidden.stream_thumbnail_url_valid(url text) returns boolean
  language sql immutable parallel safe
  set search_path = pg_catalog, pg_temp
as $$
  select char_length($1) <= 2000 and $1 ~ '^(https://[^/\s]+|/(?!/))[^\s]*$'
$$;
revoke all on function app_hidden.stream_thumbnail_url_valid(url text) from public, anon, authenticated;
grant execute on function app_hidden.stream_thumbnail_url_valid(url text) to anon, authenticated;
comment on function app_hidden.stream_thumbnail_url_valid(url text) is
  'Whether a thumbnail URL is acceptable (the streams_thumbnail_url_check constraint): https:// or a path on this site, at most 2000 characters, no whitespace.';
--! EndIncluded streams/stream_thumbnail_url_valid.sql

alter table app_public.streams add column if not exists category text;
alter table app_public.streams add column if not exists thumbnail_url text;
alter table app_public.streams drop constraint if exists streams_category_check;
alter table app_public.streams add constraint streams_category_check
  check (category is null or app_hidden.stream_category_valid(category));
alter table app_public.streams drop constraint if exists streams_thumbnail_url_check;
alter table app_public.streams add constraint streams_thumbnail_url_check
  check (thumbnail_url is null or app_hidden.stream_thumbnail_url_valid(thumbnail_url));
comment on column app_public.streams.category is
  'What the stream is about: one of stream_categories() (just_chatting, music, ...), or null. Set with setStreamDetails.';
comment on column app_public.streams.thumbnail_url is
  'The picture shown for the stream in lists: an https:// URL or a path on this site, or null. Set with setStreamDetails.';

--! Included streams/set_stream_details.sql
create or replace function app_public.set_stream_details(stream_id uuid, title text, category text default null, thumbnail_url text default null)
  returns app_public.streams
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_uid uuid := app_public.current_user_id();
  v_stream app_public.streams;
  v_category text := nullif(btrim(category), '');
  v_thumb text := nullif(btrim(thumbnail_url), '');
begin
  if v_uid is null then
    raise exception 'sign in to change a stream' using errcode = 'NOAUT';
  end if;
  select * into v_stream from app_public.streams s where s.id = set_stream_details.stream_id for update;
  if v_stream.id is null then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  if v_stream.broadcaster_id <> v_uid
     and not exists (select 1 from app_public.users u where u.id = v_uid and u.role = 'admin') then
    raise exception 'only the broadcaster or an admin may change stream %', stream_id using errcode = 'DENYD';
  end if;
  if v_stream.status <> 'live' then
    raise exception 'stream % is not live', stream_id using errcode = 'NLIVE';
  end if;
  if title is null or char_length(btrim(title)) not between 1 and 140 then
    raise exception 'title must be 1-140 characters' using errcode = 'BADIN';
  end if;
  if v_category is not null and not app_hidden.stream_category_valid(v_category) then
    raise exception 'category must be one of %', array_to_string(app_public.stream_categories(), ', ') using errcode = 'BADIN';
  end if;
  if v_thumb is not null and not app_hidden.stream_thumbnail_url_valid(v_thumb) then
    raise exception 'thumbnail URL must be an https:// URL or a path on this site (/...), at most 2000 characters without spaces'
      using errcode = 'BADIN';
  end if;
  update app_public.streams s
     set title = btrim(set_stream_details.title), category = v_category, thumbnail_url = v_thumb
   where s.id = v_stream.id
  returning * into v_stream;
  return v_stream;
end;
$$;
revoke all on function app_public.set_stream_details(stream_id uuid, title text, category text, thumbnail_url text) from public, anon, authenticated;
grant execute on function app_public.set_stream_details(stream_id uuid, title text, category text, thumbnail_url text) to authenticated;
comment on function app_public.set_stream_details(stream_id uuid, title text, category text, thumbnail_url text) is
  'Sets a live stream''s title, category (one of stream_categories(), or null) and thumbnail URL (https:// or a site path, or null). Broadcaster or admin. Errors: NOAUT, NOFND, DENYD, NLIVE, BADIN.';
--! EndIncluded streams/set_stream_details.sql
--! Included streams/my_live_stream.sql
create or replace function app_public.my_live_stream() returns app_public.streams
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select s.* from app_public.streams s
   where s.broadcaster_id = app_public.current_user_id() and s.status = 'live'
   order by s.started_at desc
   limit 1
$$;
revoke all on function app_public.my_live_stream() from public, anon, authenticated;
grant execute on function app_public.my_live_stream() to anon, authenticated;
comment on function app_public.my_live_stream() is
  'The caller''s live stream (null when not live): what the studio shows.';
--! EndIncluded streams/my_live_stream.sql

create table if not exists app_public.gifter_stats (
  gifter_id uuid not null references app_public.users (id) on delete restrict,
  period text not null check (period in ('day', 'week', 'month', 'all_time')),
  period_start timestamptz not null,
  coins bigint not null default 0,
  gifts bigint not null default 0,
  updated_at timestamptz not null default now(),
  primary key (period, period_start, gifter_id),
  check (period_start = app_public.period_start(period, period_start))
);
create index if not exists gifter_stats_leaderboard_idx on app_public.gifter_stats (period, period_start, coins desc, gifter_id);
create index if not exists gifter_stats_gifter_id_idx on app_public.gifter_stats (gifter_id);
alter table app_public.gifter_stats enable row level security;
alter table app_public.gifter_stats force row level security;
comment on table app_public.gifter_stats is
  'Coins spent per gifter per period bucket (day, week, month, all_time; UTC), materialised by settlement (settled gifts, minus reversals). The gifter leaderboard reads only this.';

-- Gifts settled before this table existed (settled, not reversed), once.
insert into app_public.gifter_stats (gifter_id, period, period_start, coins, gifts)
select g.sender_id, p.period, app_public.period_start(p.period, g.created_at), sum(g.coins), sum(g.quantity)
  from app_private.gift_ledger g
  cross join (values ('day'), ('week'), ('month'), ('all_time')) p(period)
 where exists (select 1 from app_private.gift_outcomes o where o.gift_ledger_id = g.id and o.outcome = 'settled')
   and not exists (select 1 from app_private.coin_transactions t where t.kind = 'gift_reversal' and t.gift_ledger_id = g.id)
   and not exists (select 1 from app_public.gifter_stats)
 group by 1, 2, 3
on conflict do nothing;

--! Included gifts/gifter_stats.access.sql
-- The gifter leaderboards are public.
drop policy if exists select_all on app_public.gifter_stats;
create policy select_all on app_public.gifter_stats for select
  using (true);
revoke all on table app_public.gifter_stats from public, anon, authenticated;
grant select on table app_public.gifter_stats to anon, authenticated;
--! EndIncluded gifts/gifter_stats.access.sql
--! Included gifts/process_gift_ledger_batch.sql
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
--! EndIncluded gifts/process_gift_ledger_batch.sql
--! Included gifts/reverse_gift.sql
create or replace function app_private.reverse_gift(gift_ledger_id bigint, reason text) returns bigint
  language plpgsql volatile
  set search_path = pg_catalog, pg_temp
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
  reason := app_hidden.clean_line(reason, 'reason', 200);
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
  update app_public.gifter_stats s
     set coins = s.coins - v_gift.coins, gifts = s.gifts - v_gift.quantity, updated_at = now()
   where s.gifter_id = v_gift.sender_id
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
revoke all on function app_private.reverse_gift(gift_ledger_id bigint, reason text) from public, anon, authenticated;
comment on function app_private.reverse_gift(gift_ledger_id bigint, reason text) is
  'Refund/chargeback of a settled gift: reversing entries (receiver -> sender net, platform -> sender fee) and stats decremented. Idempotent. Errors: NOFND, CONFL (not settled), INSFD (receiver already spent the coins), BADIN.';
--! EndIncluded gifts/reverse_gift.sql
--! Included gifts/gift_audit.sql
create or replace function app_private.gift_audit() returns table (invariant text, detail text)
  language sql stable
  set search_path = pg_catalog, pg_temp
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
  select 'gifter_stats = ledger', format('%s %s %s: stats %s/%s, ledger %s/%s', coalesce(s.gifter_id, l.sender_id),
         coalesce(s.period, l.period), coalesce(s.period_start, l.period_start), s.coins, s.gifts, l.coins, l.gifts)
    from app_public.gifter_stats s
    full join (
      select g.sender_id, p.period, app_public.period_start(p.period, g.created_at) as period_start,
             sum(g.coins) as coins, sum(g.quantity) as gifts
        from settled g cross join (values ('day'), ('week'), ('month'), ('all_time')) p(period)
       group by 1, 2, 3) l
      on l.sender_id = s.gifter_id and l.period = s.period and l.period_start = s.period_start
   where (coalesce(s.coins, 0), coalesce(s.gifts, 0)) <> (coalesce(l.coins, 0), coalesce(l.gifts, 0))
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
revoke all on function app_private.gift_audit() from public, anon, authenticated;
comment on function app_private.gift_audit() is
  'Invariants of the gift economy; each row returned is a violation (zero rows = healthy). Full scans: run it in tests and audits, not per request.';
--! EndIncluded gifts/gift_audit.sql
--! Included gifts/gifter_leaderboard.sql
create or replace function app_public.gifter_leaderboard(period text default 'week', "limit" integer default 10)
  returns app_public.leaderboard_entry[]
  language plpgsql stable
  set search_path = pg_catalog, pg_temp
as $$
begin
  if $1 is null or $1 not in ('day', 'week', 'month', 'all_time') then
    raise exception 'period must be day, week, month or all_time, got %', $1 using errcode = 'BADIN';
  end if;
  if $2 is null or $2 not between 1 and 100 then
    raise exception 'limit must be between 1 and 100, got %', $2 using errcode = 'BADIN';
  end if;
  return array(
    select row((row_number() over (order by t.coins desc, t.gifter_id))::integer, t.gifter_id, u.username, u.display_name,
               u.avatar_url, t.coins, t.gifts)::app_public.leaderboard_entry
      from (select s.gifter_id, s.coins, s.gifts from app_public.gifter_stats s
             where s.period = $1 and s.period_start = app_public.period_start($1, now()) and s.coins > 0
             order by s.coins desc, s.gifter_id limit $2) t
      join app_public.users u on u.id = t.gifter_id
     order by t.coins desc, t.gifter_id);
end;
$$;
revoke all on function app_public.gifter_leaderboard(period text, "limit" integer) from public, anon, authenticated;
grant execute on function app_public.gifter_leaderboard(period text, "limit" integer) to anon, authenticated;
comment on function app_public.gifter_leaderboard(period text, "limit" integer) is
  'Top gifters by coins spent in the current period (day, week, month, all_time; UTC boundaries), settled gifts only. Reads only materialised stats (gifter_stats). Errors: BADIN.';
--! EndIncluded gifts/gifter_leaderboard.sql
--! Included gifts/broadcaster_earnings.sql
create or replace function app_public.broadcaster_earnings(broadcaster_id uuid)
  returns setof app_public.broadcaster_stats
  language sql stable
  set search_path = pg_catalog, pg_temp
as $$
  select s.* from app_public.broadcaster_stats s
   where s.broadcaster_id = $1
     and (s.period, s.period_start) in (select p.period, app_public.period_start(p.period, now())
                                          from (values ('day'), ('week'), ('month'), ('all_time')) p(period))
   order by array_position(array['day', 'week', 'month', 'all_time'], s.period);
$$;
revoke all on function app_public.broadcaster_earnings(broadcaster_id uuid) from public, anon, authenticated;
grant execute on function app_public.broadcaster_earnings(broadcaster_id uuid) to authenticated;
comment on function app_public.broadcaster_earnings(broadcaster_id uuid) is
  'A broadcaster''s settled earnings in the current day, week, month and all time (UTC; one row per period that has gifts): coins received, coins kept after the fee, gifts. Only the broadcaster and admins see rows (row level security on broadcaster_stats: takings are private, the public list is leaderboard()).';
--! EndIncluded gifts/broadcaster_earnings.sql
--! Included playback/playback_health_rows.sql
create or replace function app_hidden.playback_health_rows()
  returns table (stream_id uuid, title text, status text, hls_provider text, mode text, pending text, pending_reason text,
                 attempts integer, check_due_at timestamptz, last_check_at timestamptz, last_check_ok boolean,
                 last_check_url text, last_error text, alerting boolean, failure_reports integer, failure_reports_5m integer)
  language sql stable
  security definer
  set search_path = pg_catalog, pg_temp
as $$
 SELECT p.stream_id,
    s.title,
    s.status,
    p.hls_provider,
    p.mode,
    p.pending,
    p.pending_reason,
    p.attempts,
    p.check_due_at,
    p.last_check_at,
    p.last_check_ok,
    p.last_check_url,
    p.last_error,
    COALESCE(p.last_check_ok = false, false) AS alerting,
    (( SELECT count(*) AS count
           FROM app_private.playback_failure_reports r
          WHERE r.stream_id = p.stream_id))::integer AS failure_reports,
    (( SELECT count(*) AS count
           FROM app_private.playback_failure_reports r
          WHERE r.stream_id = p.stream_id AND r.reported_at > (pg_catalog.now() - '00:05:00'::interval)))::integer AS failure_reports_5m
   FROM app_private.stream_playback p
     JOIN app_public.streams s ON s.id = p.stream_id
  WHERE s.broadcaster_id = app_public.current_user_id()
     OR (EXISTS ( SELECT 1
           FROM app_public.users u
          WHERE u.id = app_public.current_user_id() AND u.role = 'admin'::app_public.app_role))
$$;
revoke all on function app_hidden.playback_health_rows() from public, anon, authenticated;
grant execute on function app_hidden.playback_health_rows() to authenticated;
comment on function app_hidden.playback_health_rows() is
  'The rows of app_public.playback_health: SECURITY DEFINER (they come from app_private), every stream for an admin caller, the caller''s own streams for a broadcaster, no rows otherwise.';
--! EndIncluded playback/playback_health_rows.sql
--! Included playback/playback_health.sql
-- security_invoker: the view itself never runs as its owner (splinter's security_definer_view); the
-- privileged read is app_hidden.playback_health_rows(), a SECURITY DEFINER function that checks the caller
-- (admins: every stream; a broadcaster: their own).
create or replace view app_public.playback_health with (security_invoker=true) as
 SELECT h.stream_id, h.title, h.status, h.hls_provider, h.mode, h.pending, h.pending_reason, h.attempts, h.check_due_at,
    h.last_check_at, h.last_check_ok, h.last_check_url, h.last_error, h.alerting, h.failure_reports, h.failure_reports_5m
   FROM app_hidden.playback_health_rows() h(stream_id, title, status, hls_provider, mode, pending, pending_reason, attempts, check_due_at, last_check_at, last_check_ok, last_check_url, last_error, alerting, failure_reports, failure_reports_5m);
revoke all on table app_public.playback_health from public, anon, authenticated;
grant select on table app_public.playback_health to authenticated;
comment on view app_public.playback_health is
  'Admins (every stream) and each broadcaster (their own streams): playback state per stream, last health check and why it failed (alerting), failure reports from players.';
comment on column app_public.playback_health.alerting is 'The last health check failed: viewers were kept on the current path; the worker retries.';
--! EndIncluded playback/playback_health.sql

-- Viewers learn that a stream ended from the broadcast socket (players no longer poll).
--! Included streams/tg_streams__publish_ended.sql
create or replace function app_private.tg_streams__publish_ended() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
begin
  perform app_private.publish_stream_event(new.id, 'stream_state',
    jsonb_build_object('status', 'ended', 'ended_at', new.ended_at));
  return null;
end;
$$;
revoke all on function app_private.tg_streams__publish_ended() from public, anon, authenticated;
comment on function app_private.tg_streams__publish_ended() is
  'Tells viewers that a stream ended: a stream_state event {status: "ended", ended_at} through the outbox (players stop, the page says so).';
--! EndIncluded streams/tg_streams__publish_ended.sql
drop trigger if exists _600_publish_ended on app_public.streams;
create trigger _600_publish_ended after update of status on app_public.streams
  for each row when (old.status = 'live' and new.status = 'ended')
  execute function app_private.tg_streams__publish_ended();

-- Viewers ask to join the stage; managers see the requests and invite (an invitation clears one).
create table if not exists app_public.stream_seat_requests (
  stream_id uuid not null references app_public.streams (id) on delete cascade,
  user_id uuid not null references app_public.users (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (stream_id, user_id)
);
create index if not exists stream_seat_requests_user_id_idx on app_public.stream_seat_requests (user_id);
alter table app_public.stream_seat_requests enable row level security;
alter table app_public.stream_seat_requests force row level security;
comment on table app_public.stream_seat_requests is
  'Viewers who asked to join a stream''s stage (requestSeat / cancelSeatRequest); cleared by an invitation. Seen by the requester and the stage managers.';
--! Included stage/stream_seat_requests.access.sql
-- A request to join the stage is seen by the viewer who made it and the stage managers.
drop policy if exists select_own_or_manager on app_public.stream_seat_requests;
create policy select_own_or_manager on app_public.stream_seat_requests for select
  using (((user_id = ( SELECT app_public.current_user_id() AS current_user_id)) OR (EXISTS ( SELECT 1
   FROM app_public.streams s
  WHERE ((s.id = stream_seat_requests.stream_id) AND (s.broadcaster_id = ( SELECT app_public.current_user_id() AS current_user_id))))) OR (EXISTS ( SELECT 1
   FROM app_public.users u
  WHERE ((u.id = ( SELECT app_public.current_user_id() AS current_user_id)) AND (u.role = ANY (ARRAY['moderator'::app_public.app_role, 'admin'::app_public.app_role])))))));
revoke all on table app_public.stream_seat_requests from public, anon, authenticated;
grant select on table app_public.stream_seat_requests to authenticated;
--! EndIncluded stage/stream_seat_requests.access.sql
--! Included stage/request_seat.sql
create or replace function app_public.request_seat(stream_id uuid) returns app_public.stream_seat_requests
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_me app_public.users := app_private.require_user();
  v_stream app_public.streams;
  v_request app_public.stream_seat_requests;
begin
  select * into v_stream from app_public.streams s where s.id = request_seat.stream_id;
  if v_stream.id is null then
    raise exception 'stream % not found', stream_id using errcode = 'NOFND';
  end if;
  if v_stream.status <> 'live' then
    raise exception 'stream % is not live', stream_id using errcode = 'NLIVE';
  end if;
  if v_stream.broadcaster_id = v_me.id then
    raise exception 'the broadcaster is always on their own stage' using errcode = 'BADIN';
  end if;
  if exists (select 1 from app_public.stream_bans b where b.stream_id = v_stream.id and b.user_id = v_me.id
              and (b.banned_until is null or b.banned_until > now())) then
    raise exception 'user % is banned from stream %', v_me.username, v_stream.id using errcode = 'BANND';
  end if;
  if exists (select 1 from app_public.stream_seats s where s.stream_id = v_stream.id and s.user_id = v_me.id
              and s.status in ('invited', 'active')) then
    raise exception 'user % already has a seat or an invitation', v_me.username using errcode = 'SEATF';
  end if;
  select * into v_request from app_public.stream_seat_requests r where r.stream_id = v_stream.id and r.user_id = v_me.id;
  if found then
    return v_request;  -- asking twice changes nothing (and announces nothing)
  end if;
  insert into app_public.stream_seat_requests (stream_id, user_id) values (v_stream.id, v_me.id) returning * into v_request;
  perform app_private.publish_stream_event(v_stream.id, 'seat', jsonb_build_object(
    'action', 'requested',
    'request', jsonb_build_object('stream_id', v_request.stream_id, 'user_id', v_request.user_id, 'requested_at', v_request.created_at),
    'user', jsonb_build_object('id', v_me.id, 'username', v_me.username, 'display_name', v_me.display_name, 'avatar_url', v_me.avatar_url)));
  return v_request;
end;
$$;
revoke all on function app_public.request_seat(stream_id uuid) from public, anon, authenticated;
grant execute on function app_public.request_seat(stream_id uuid) to authenticated;
comment on function app_public.request_seat(stream_id uuid) is
  'A viewer asks to join a live stream''s stage; the stage managers see the request (a seat event with action requested) and may invite. Idempotent. Errors: NOAUT, BANND, NOFND, NLIVE, BADIN (the broadcaster), SEATF (already seated or invited).';
--! EndIncluded stage/request_seat.sql
--! Included stage/cancel_seat_request.sql
create or replace function app_public.cancel_seat_request(stream_id uuid) returns boolean
  language plpgsql volatile
  security definer
  set search_path = pg_catalog, pg_temp
as $$
declare
  v_me app_public.users := app_private.require_user();
begin
  delete from app_public.stream_seat_requests r where r.stream_id = cancel_seat_request.stream_id and r.user_id = v_me.id;
  if not found then
    return false;
  end if;
  perform app_private.publish_stream_event(cancel_seat_request.stream_id, 'seat', jsonb_build_object(
    'action', 'request_cancelled',
    'request', jsonb_build_object('stream_id', cancel_seat_request.stream_id, 'user_id', v_me.id),
    'user', jsonb_build_object('id', v_me.id, 'username', v_me.username, 'display_name', v_me.display_name, 'avatar_url', v_me.avatar_url)));
  return true;
end;
$$;
revoke all on function app_public.cancel_seat_request(stream_id uuid) from public, anon, authenticated;
grant execute on function app_public.cancel_seat_request(stream_id uuid) to authenticated;
comment on function app_public.cancel_seat_request(stream_id uuid) is
  'Withdraws the caller''s request to join the stage (a seat event with action request_cancelled); false when there was none. Errors: NOAUT, BANND.';
--! EndIncluded stage/cancel_seat_request.sql
--! Included stage/tg_stream_seats__clear_request.sql
create or replace function app_private.tg_stream_seats__clear_request() returns trigger
  language plpgsql
  set search_path = pg_catalog, pg_temp
as $$
begin
  delete from app_public.stream_seat_requests r where r.stream_id = new.stream_id and r.user_id = new.user_id;
  return null;
end;
$$;
revoke all on function app_private.tg_stream_seats__clear_request() from public, anon, authenticated;
comment on function app_private.tg_stream_seats__clear_request() is
  'An invitation answers a request to join the stage: the request goes (its seat event, invited, tells the clients).';
--! EndIncluded stage/tg_stream_seats__clear_request.sql
drop trigger if exists _600_clear_request on app_public.stream_seats;
create trigger _600_clear_request after insert on app_public.stream_seats
  for each row execute function app_private.tg_stream_seats__clear_request();
