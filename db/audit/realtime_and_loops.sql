-- After a crash or restart (and any time): the parts that must come back by themselves did.
-- Zero rows: healthy. Each row names the broken invariant and the offending detail. The thresholds
-- are several times each loop's period, so a healthy system never shows a row.
with outbox as (
  select count(*) filter (where e.seq is null and e.created_at < now() - interval '10 seconds') as stuck,
         count(*) filter (where e.created_at < now() - make_interval(secs => coalesce(
           (select max(s.value)::int from app_private.settings s where s.key = 'stream_events_retention_seconds'), 120) + 60)) as stale
    from app_private.stream_events e
)
-- The relay loop runs (every 75 ms in every server process): nothing waits long for delivery.
select 'outbox relayed' as invariant, format('%s events older than 10 s not yet relayed', o.stuck) as detail
  from outbox o where o.stuck > 0
union all
-- The relay prunes the outbox (every 5 s): nothing older than the retention window + 60 s.
select 'outbox pruned', format('%s events older than the retention window', o.stale)
  from outbox o where o.stale > 0
union all
-- Viewer counts are published (every second): the last published count equals live presence.
select 'viewer counts published', format('stream %s: live %s, published %s', l.stream_id, l.viewers, coalesce(v.viewers, 0))
  from (select p.stream_id, sum(p.viewers)::int as viewers from app_private.presence_counts p
         where p.updated_at > now() - interval '15 seconds' group by p.stream_id) l
  left join app_private.stream_viewer_counts v on v.stream_id = l.stream_id
 where l.viewers is distinct from coalesce(v.viewers, 0)
   and coalesce(v.published_at, '-infinity') < now() - interval '10 seconds'
union all
-- The worker beats (every 5 s).
select 'worker heartbeat', coalesce(format('last beat %s s ago', round(extract(epoch from now() - max(h.beat_at)))), 'no heartbeat')
  from app_private.worker_heartbeats h
having coalesce(max(h.beat_at), '-infinity') < now() - interval '30 seconds'
union all
-- Settlement runs (every 10 s; one batch log row per run).
select 'settlement runs', coalesce(format('last batch %s s ago', round(extract(epoch from now() - max(b.finished_at)))), 'no batch')
  from app_public.gift_batch_logs b
having coalesce(max(b.finished_at), '-infinity') < now() - interval '60 seconds'
union all
-- Settlement keeps up: no gift waits much longer than a run.
select 'gifts settled', format('oldest pending gift waits %s s', round(extract(epoch from now() - min(q.created_at))))
  from app_private.gift_settlement_queue q
having min(q.created_at) < now() - interval '60 seconds'
union all
-- Every self-rescheduling loop has a job that is pending or held by a live worker.
select 'loop scheduled', format('%s: no pending job and none running for less than 60 s', t.task)
  from unnest(array['worker__heartbeat', 'gift_ledger__settle', 'streams__viral_tick']) t(task)
 where not exists (select 1 from graphile_worker.jobs j
                    where j.key = t.task and (j.locked_at is null or j.locked_at > now() - interval '60 seconds'));
