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
