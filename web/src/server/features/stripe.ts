// Coins through Stripe Checkout. POST /checkout (the wallet page's form, signed in by the session
// cookie) opens a Checkout Session for an active coin pack and redirects the browser to Stripe;
// POST /webhooks/stripe verifies the Stripe-Signature header with the SDK (constructEvent) and
// fulfils paid sessions, or claws coins back on refunds and chargebacks. The rules (what a pack sells,
// idempotency, the clawback policy and wallet debts) are SQL: app_private.checkout_pack,
// record_checkout_session, fulfil_checkout, claw_back_payment.
import type { IncomingMessage } from "node:http";
import Stripe from "stripe";
import type { Config } from "../../../../core/config.ts";
import { readCookie, SESSION_COOKIE } from "../../../../core/session.ts";
import { AuthError } from "../auth.ts";
import { HttpError, json, readBody } from "../http.ts";
import type { Feature, FeatureFactory, Route, ServerContext } from "./types.ts";

export const CHECKOUT_PATH = "/checkout";
export const STRIPE_WEBHOOK_PATH = "/webhooks/stripe";

/** The SDK client for the configured key (and API base: tests use a local double). */
export function stripeClient(config: Pick<Config, "STRIPE_SECRET_KEY" | "STRIPE_API_BASE">): Stripe | null {
  if (!config.STRIPE_SECRET_KEY) return null;
  const base = config.STRIPE_API_BASE ? new URL(config.STRIPE_API_BASE) : null;
  return new Stripe(config.STRIPE_SECRET_KEY, {
    maxNetworkRetries: 1,
    timeout: 15_000,
    ...(base
      ? {
          host: base.hostname,
          port: base.port || (base.protocol === "https:" ? 443 : 80),
          protocol: base.protocol === "https:" ? "https" : "http",
        }
      : {}),
  });
}

/** Where the browser came from: PUBLIC_URL, else this request's own host. */
function origin(config: Config, req: IncomingMessage): string {
  if (config.PUBLIC_URL) return config.PUBLIC_URL.replace(/\/$/, "");
  return `http://${req.headers.host ?? `${config.HOST}:${config.PORT}`}`;
}

function redirect(res: import("node:http").ServerResponse, location: string) {
  res.writeHead(303, { location, "cache-control": "no-store" });
  res.end();
}

function pgCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" && /^[A-Z]{5}$/.test(code) ? code : undefined;
}

async function signedInUser(ctx: ServerContext, req: IncomingMessage): Promise<string | null> {
  const token = readCookie(req.headers.cookie, SESSION_COOKIE);
  if (!token) return null;
  try {
    const settings = await ctx.settingsFor(`Bearer ${token}`);
    const sub = (JSON.parse(settings["request.jwt.claims"]) as { sub?: string }).sub;
    return sub ?? null;
  } catch (e) {
    if (e instanceof AuthError) return null;
    throw e;
  }
}

function checkoutRoute(stripe: Stripe | null): Route {
  return {
    method: "POST",
    path: CHECKOUT_PATH,
    async handle(req, res, ctx) {
      const back = `${origin(ctx.config, req)}/wallet`;
      const form = new URLSearchParams(await readBody(req, 4096));
      const userId = await signedInUser(ctx, req);
      if (!userId) return redirect(res, `/login?next=${encodeURIComponent("/wallet")}`);
      if (!stripe) return redirect(res, "/wallet?error=CONFG");
      let pack: { id: string; slug: string; name: string; coins: number; price_cents: number; currency: string };
      try {
        const { rows } = await ctx.ownerPool.query("select * from app_private.checkout_pack($1, $2)", [userId, form.get("pack") ?? ""]);
        pack = rows[0];
      } catch (e) {
        const code = pgCode(e);
        if (code) return redirect(res, `/wallet?error=${code}`);
        throw e;
      }
      let session: Stripe.Checkout.Session;
      try {
        session = await stripe.checkout.sessions.create({
          mode: "payment",
          line_items: [
            {
              quantity: 1,
              price_data: {
                currency: pack.currency.toLowerCase(),
                unit_amount: pack.price_cents,
                product_data: { name: `${pack.name} (${pack.coins} coins)` },
              },
            },
          ],
          client_reference_id: userId,
          metadata: { user_id: userId, pack: pack.slug },
          success_url: `${back}?checkout=success`,
          cancel_url: `${back}?checkout=cancelled`,
        });
      } catch (e) {
        ctx.logger.warn({ err: e }, "stripe: could not open a checkout session");
        return redirect(res, "/wallet?error=STRIPE");
      }
      await ctx.ownerPool.query("select app_private.record_checkout_session($1, $2, $3)", [session.id, userId, pack.id]);
      if (!session.url) return redirect(res, "/wallet?error=STRIPE");
      redirect(res, session.url);
    },
  };
}

const idOf = (x: string | { id: string } | null | undefined): string | null => (typeof x === "string" ? x : (x?.id ?? null));

function webhookRoute(stripe: Stripe | null): Route {
  return {
    method: "POST",
    path: STRIPE_WEBHOOK_PATH,
    async handle(req, res, ctx) {
      const secret = ctx.config.STRIPE_WEBHOOK_SECRET;
      if (!secret || !stripe)
        throw new HttpError(503, "CONFG", "Stripe is not configured (set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET)");
      const raw = await readBody(req, 512 * 1024);
      const header = req.headers["stripe-signature"];
      let event: Stripe.Event;
      try {
        event = stripe.webhooks.constructEvent(raw, Array.isArray(header) ? (header[0] ?? "") : (header ?? ""), secret);
      } catch (e) {
        throw new HttpError(400, "NOAUT", `Stripe-Signature: ${(e as Error).message}`);
      }
      try {
        if (event.type === "checkout.session.completed" || event.type === "checkout.session.async_payment_succeeded") {
          const s = event.data.object;
          if (s.payment_status !== "paid") return json(res, 200, { received: true, handled: false, reason: "not paid yet" });
          const { rows } = await ctx.ownerPool.query("select * from app_private.fulfil_checkout($1, $2, $3, $4)", [
            event.id,
            s.id,
            idOf(s.payment_intent),
            raw,
          ]);
          ctx.logger.info({ event: event.id, session: s.id, duplicate: rows[0]?.duplicate }, "stripe: checkout fulfilled");
          return json(res, 200, { received: true, handled: true, ...rows[0] });
        }
        if (event.type === "charge.refunded" || event.type === "charge.dispute.created") {
          const o = event.data.object;
          const amount = event.type === "charge.refunded" ? event.data.object.amount_refunded : event.data.object.amount;
          const { rows } = await ctx.ownerPool.query("select * from app_private.claw_back_payment($1, $2, $3, $4)", [
            event.id,
            event.type,
            idOf(o.payment_intent),
            amount,
          ]);
          ctx.logger.info({ event: event.id, type: event.type, ...rows[0] }, "stripe: coins clawed back");
          return json(res, 200, { received: true, handled: true, ...rows[0] });
        }
      } catch (e) {
        // A payment this server never sold (another integration on the same account): acknowledge it.
        if (pgCode(e) === "NOFND") {
          ctx.logger.warn({ event: event.id, type: event.type, err: e }, "stripe: event for an unknown payment");
          return json(res, 200, { received: true, handled: false, reason: (e as Error).message });
        }
        throw e;
      }
      json(res, 200, { received: true, handled: false });
    },
  };
}

export const stripeFeature: FeatureFactory = async (ctx): Promise<Feature> => {
  const stripe = stripeClient(ctx.config);
  return { name: "stripe", routes: [checkoutRoute(stripe), webhookRoute(stripe)] };
};
