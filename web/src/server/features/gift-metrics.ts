// Gift settlement as Prometheus metrics: lag, backlog, batch duration, gifts settled and refunded,
// time since the last batch, all read from the database (app_private.gift_settlement_queue,
// app_public.gift_batch_logs) when /metrics is scraped. The settlement itself is the worker's
// gift_ledger__settle loop; its recovery after a dead worker is the generic loop watch (worker/src/loop.ts).
import { Counter, Gauge, Histogram } from "prom-client";
import type { FeatureFactory } from "./types.ts";

// Schema or function missing (the gifts migration is not in this database): stay quiet.
const MISSING = new Set(["42P01", "42883", "3F000"]);
const isMissing = (e: unknown) => MISSING.has((e as { code?: string }).code ?? "");

export const giftMetricsFeature: FeatureFactory = async (ctx) => {
  const { ownerPool, registry, logger } = ctx;
  // Values are read from the database when Prometheus scrapes (at most once a second, shared by all
  // the metrics below), so a scrape never shows a stale backlog.
  let inflight: Promise<void> | null = null;
  let refreshedAt = 0;
  const fresh = async () => {
    if (!inflight || Date.now() - refreshedAt > 1000) {
      refreshedAt = Date.now();
      inflight = refresh();
    }
    await inflight;
  };
  const collect = async () => {
    await fresh();
  };
  const lag = new Gauge({
    name: "trollcity_gift_settlement_lag_seconds",
    help: "Age of the oldest gift not yet settled (0 when none is pending).",
    registers: [registry],
    collect,
  });
  const backlog = new Gauge({
    name: "trollcity_gift_backlog",
    help: "Gifts accepted and not yet settled.",
    registers: [registry],
    collect,
  });
  const sinceLast = new Gauge({
    name: "trollcity_gift_last_batch_age_seconds",
    help: "Seconds since the last settlement batch finished (should stay near 10).",
    registers: [registry],
    collect,
  });
  const duration = new Histogram({
    name: "trollcity_gift_batch_duration_seconds",
    help: "Duration of settlement batches (from gift_batch_logs).",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
    collect,
  });
  const settled = new Counter({
    name: "trollcity_gifts_settled_total",
    help: "Gifts settled (from gift_batch_logs).",
    registers: [registry],
    collect,
  });
  const failed = new Counter({
    name: "trollcity_gifts_failed_total",
    help: "Gifts refunded at settlement (from gift_batch_logs).",
    registers: [registry],
    collect,
  });

  // Batch logs are read incrementally: each one observed once per process.
  let lastLogId: string | null = null;
  const processStart = new Date(Date.now() - process.uptime() * 1000);
  async function refresh() {
    try {
      if (lastLogId === null) {
        // Count the batches that finished since this process started.
        const { rows } = await ownerPool.query<{ id: string }>(
          "select coalesce(max(id), 0)::text as id from app_public.gift_batch_logs where finished_at < $1",
          [processStart],
        );
        lastLogId = rows[0]?.id ?? "0";
      }
      const { rows: state } = await ownerPool.query<{ pending: string; lag: number | null; since: number | null }>(
        `select (select count(*) from app_private.gift_settlement_queue) as pending,
                (select extract(epoch from now() - q.created_at)::float8 from app_private.gift_settlement_queue q
                  order by q.gift_ledger_id limit 1) as lag,
                (select extract(epoch from now() - l.finished_at)::float8 from app_public.gift_batch_logs l
                  order by l.id desc limit 1) as since`,
      );
      const s = state[0];
      backlog.set(Number(s?.pending ?? 0));
      lag.set(Math.max(0, s?.lag ?? 0));
      if (s?.since != null) sinceLast.set(s.since);
      const { rows: logs } = await ownerPool.query<{ id: string; duration_ms: string; settled: number; failed: number }>(
        "select id::text, duration_ms, settled, failed from app_public.gift_batch_logs where id > $1 order by id limit 10000",
        [lastLogId],
      );
      for (const l of logs) {
        duration.observe(Number(l.duration_ms) / 1000);
        if (l.settled) settled.inc(l.settled);
        if (l.failed) failed.inc(l.failed);
        lastLogId = l.id;
      }
    } catch (e) {
      if (!isMissing(e)) logger.warn({ err: e }, "gift metrics: refresh failed");
    }
  }

  return { name: "gift-metrics" };
};
