// Payments: POST /webhooks/payments, the payment provider's webhook, which credits purchased coins
// (HMAC-signed, idempotent on the provider's event id) through app_private.purchase_coins. Business
// rules stay in SQL. The settlement metrics are gift-metrics.ts.
import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { HttpError, json, readBody } from "../http.ts";
import type { Feature, FeatureFactory, Route } from "./types.ts";

export const WEBHOOK_PATH = "/webhooks/payments";
export const SIGNATURE_HEADER = "x-trollcity-signature";
/** Signed events older (or newer) than this are refused: a captured request cannot be replayed later. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;
/** Provider name recorded with each purchase (the idempotency key is provider + event id). */
export const PAYMENT_PROVIDER = "payments";

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

const webhookRoute: Route = {
  method: "POST",
  path: WEBHOOK_PATH,
  async handle(req, res, ctx) {
    const secret = ctx.config.PAYMENT_WEBHOOK_SECRET;
    if (!secret) throw new HttpError(503, "CONFG", "payments are not configured (set PAYMENT_WEBHOOK_SECRET)");
    const raw = await readBody(req);
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

export const paymentsFeature: FeatureFactory = async (): Promise<Feature> => ({ name: "payments", routes: [webhookRoute] });
