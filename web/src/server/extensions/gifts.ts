// Gift economy at the process edge: Prometheus metrics for settlement (lag, backlog, batch duration,
// time since the last batch) and the payment provider's webhook, which credits purchased coins
// (HMAC-signed, idempotent on the provider's event id). Business rules stay in SQL; the settlement
// loop's recovery after a dead worker is the worker's generic loop watch (worker/src/loop.ts).
import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { Counter, Gauge, Histogram } from "prom-client";
import { z } from "zod";
import { HttpError, json } from "../http.ts";
import type { ExtensionFactory, Route, ServerContext } from "./types.ts";

export const WEBHOOK_PATH = "/webhooks/payments";
export const SIGNATURE_HEADER = "x-trollcity-signature";
/** Signed events older (or newer) than this are refused: a captured request cannot be replayed later. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;
/** Provider name recorded with each purchase (the idempotency key is provider + event id). */
export const PAYMENT_PROVIDER = "payments";

// Schema or function missing (the gifts migration is not in this database): stay quiet.
const MISSING = new Set(["42P01", "42883", "3F000"]);
const isMissing = (e: unknown) => MISSING.has((e as { code?: string }).code ?? "");

/** `t=<unix seconds>,v1=<hex hmac>` over `${t}.${rawBody}` with HMAC-SHA256 (Stripe's scheme). */
export function signPayload(secret: string, body: string, t = Math.floor(Date.now() / 1000)): string {
  return `t=${t},v1=${createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")}`;
}

export function verifySignature(secret: string, header: string | undefined, body: string, now = Date.now() / 1000): boolean {
  if (!header) return false;
  const parts = header.split(",").map((p) => p.trim().split("="));
  const t = Number(parts.find(([k]) => k === "t")?.[1]);
  if (!Number.isInteger(t) || Math.abs(now - t) > SIGNATURE_TOLERANCE_SECONDS) return false;
  const expected = Buffer.from(createHmac("sha256", secret).update(`${t}.${body}`).digest("hex"));
  return parts
    .filter(([k, v]) => k === "v1" && v)
    .some(([, v]) => {
      const got = Buffer.from(v ?? "");
      return got.length === expected.length && timingSafeEqual(got, expected);
    });
}

const eventSchema = z.object({
  id: z.string().min(1).max(200),
  type: z.string().min(1).max(100),
  data: z.unknown(),
});
const purchaseSchema = z.object({
  user_id: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, "must be a user id (uuid)"),
  coins: z.number().int().min(1).max(10_000_000),
  amount_cents: z.number().int().min(0).optional(),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .optional(),
});

async function readRaw(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, "BADIN", `request body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

const webhookRoute: Route = {
  method: "POST",
  path: WEBHOOK_PATH,
  async handle(req, res, ctx: ServerContext) {
    const secret = ctx.config.PAYMENT_WEBHOOK_SECRET;
    if (!secret) throw new HttpError(503, "CONFG", "payments are not configured (set PAYMENT_WEBHOOK_SECRET)");
    const raw = await readRaw(req);
    const header = req.headers[SIGNATURE_HEADER];
    if (!verifySignature(secret, Array.isArray(header) ? header[0] : header, raw)) {
      throw new HttpError(401, "NOAUT", `${SIGNATURE_HEADER} is missing, expired or does not match the body`);
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      throw new HttpError(400, "BADIN", "webhook body is not valid JSON");
    }
    const event = eventSchema.safeParse(body);
    if (!event.success) throw new HttpError(400, "BADIN", `webhook event: ${event.error.issues[0]?.message ?? "invalid"}`);
    if (event.data.type !== "coins.purchased") {
      // Acknowledge what we do not handle, so the provider stops retrying it.
      return json(res, 200, { received: true, handled: false });
    }
    const data = purchaseSchema.safeParse(event.data.data);
    if (!data.success) {
      const issue = data.error.issues[0];
      throw new HttpError(400, "BADIN", `coins.purchased data.${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`);
    }
    const { rows } = await ctx.ownerPool.query<{ coin_transaction_id: string; duplicate: boolean }>(
      "select coin_transaction_id, duplicate from app_private.purchase_coins($1, $2, $3, $4, $5, $6, $7)",
      [
        PAYMENT_PROVIDER,
        event.data.id,
        data.data.user_id,
        data.data.coins,
        data.data.amount_cents ?? null,
        data.data.currency ?? null,
        body,
      ],
    );
    const row = rows[0];
    ctx.logger.info({ event: event.data.id, duplicate: row?.duplicate }, "payment webhook: coins.purchased");
    json(res, 200, { received: true, handled: true, duplicate: row?.duplicate ?? false, transaction: row?.coin_transaction_id });
  },
};

export const giftsExtension: ExtensionFactory = async (ctx) => {
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

  return {
    name: "gifts",
    routes: [webhookRoute],
  };
};
