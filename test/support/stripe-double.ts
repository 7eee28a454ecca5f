// A Stripe test double for Checkout: a local HTTP server the app reaches through STRIPE_API_BASE.
// `POST /v1/checkout/sessions` (form-encoded, as the stripe SDK sends it) needs `Authorization:
// Bearer <secret key>` and answers a session with `id` and `url`; the url is the double's own
// "hosted checkout" page (`GET /pay/<id>`), whose Pay button (`POST /pay/<id>`) marks the session paid,
// sends the signed `checkout.session.completed` webhook to the app (signed by the SDK's own
// `stripe.webhooks.generateTestHeaderString`) and redirects to the session's success_url, as Stripe
// does. `refund`/`dispute` send `charge.refunded` / `charge.dispute.created`. No real network.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import Stripe from "stripe";

export const TEST_STRIPE_SECRET_KEY = "sk_test_double_0123456789";
export const TEST_STRIPE_WEBHOOK_SECRET = "whsec_double_0123456789abcdef";

export interface DoubleSession {
  id: string;
  object: "checkout.session";
  url: string;
  mode: string;
  status: "open" | "complete";
  payment_status: "unpaid" | "paid";
  payment_intent: string | null;
  amount_total: number;
  currency: string;
  client_reference_id: string | null;
  metadata: Record<string, string>;
  success_url: string;
  cancel_url: string;
}

export interface StripeDouble {
  url: string;
  /** Where webhooks go (the app's /webhooks/stripe), set once the app is up. */
  webhookUrl: string | null;
  sessions: Map<string, DoubleSession>;
  /** Every API call: method, path, status. */
  calls: { method: string; path: string; status: number; body: Record<string, string> }[];
  /** Pay a session and deliver the webhook (what the Pay button does); returns the webhook's reply. */
  pay(sessionId: string): Promise<{ status: number; body: unknown }>;
  /** Send a signed event (any type) to the app; `eventId` to replay one. */
  send(type: string, object: Record<string, unknown>, eventId?: string): Promise<{ status: number; body: unknown; eventId: string }>;
  refund(sessionId: string, amountRefunded: number): Promise<{ status: number; body: unknown }>;
  dispute(sessionId: string, amount: number): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

const sdk = new Stripe(TEST_STRIPE_SECRET_KEY);

async function read(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

function reply(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

export async function startStripeDouble(
  secretKey = TEST_STRIPE_SECRET_KEY,
  webhookSecret = TEST_STRIPE_WEBHOOK_SECRET,
): Promise<StripeDouble> {
  let n = 0;
  const sessions = new Map<string, DoubleSession>();
  const calls: StripeDouble["calls"] = [];
  let base = "";
  const double: StripeDouble = {
    url: "",
    webhookUrl: null,
    sessions,
    calls,
    async send(type, object, eventId = `evt_test_${++n}`) {
      if (!double.webhookUrl) throw new Error("stripe double: webhookUrl is not set");
      const payload = JSON.stringify({ id: eventId, object: "event", type, created: Math.floor(Date.now() / 1000), data: { object } });
      const header = sdk.webhooks.generateTestHeaderString({ payload, secret: webhookSecret });
      const res = await fetch(double.webhookUrl, {
        method: "POST",
        headers: { "content-type": "application/json", "stripe-signature": header },
        body: payload,
      });
      return { status: res.status, body: await res.json().catch(() => null), eventId };
    },
    async pay(sessionId) {
      const s = sessions.get(sessionId);
      if (!s) throw new Error(`stripe double: no session ${sessionId}`);
      s.status = "complete";
      s.payment_status = "paid";
      s.payment_intent = `pi_test_${sessionId}`;
      return double.send("checkout.session.completed", { ...s });
    },
    refund(sessionId, amountRefunded) {
      const s = sessions.get(sessionId);
      return double.send("charge.refunded", {
        id: `ch_${sessionId}`,
        object: "charge",
        payment_intent: s?.payment_intent,
        amount: s?.amount_total,
        amount_refunded: amountRefunded,
      });
    },
    dispute(sessionId, amount) {
      const s = sessions.get(sessionId);
      return double.send("charge.dispute.created", {
        id: `dp_${sessionId}`,
        object: "dispute",
        payment_intent: s?.payment_intent,
        amount,
        charge: `ch_${sessionId}`,
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    read(req).then(
      async (raw) => {
        const form = Object.fromEntries(new URLSearchParams(raw));
        const record = (status: number) => calls.push({ method: req.method ?? "", path, status, body: form });
        if (req.method === "POST" && path === "/v1/checkout/sessions") {
          if (req.headers.authorization !== `Bearer ${secretKey}`) {
            record(401);
            return reply(res, 401, { error: { type: "invalid_request_error", message: "Invalid API Key provided" } });
          }
          if (!form.success_url || !form["line_items[0][price_data][unit_amount]"]) {
            record(400);
            return reply(res, 400, {
              error: { type: "invalid_request_error", message: "Missing required param: line_items or success_url." },
            });
          }
          const id = `cs_test_${++n}`;
          const metadata: Record<string, string> = {};
          for (const [k, v] of Object.entries(form)) {
            const m = /^metadata\[(.+)\]$/.exec(k);
            if (m?.[1]) metadata[m[1]] = v;
          }
          const session: DoubleSession = {
            id,
            object: "checkout.session",
            url: `${base}/pay/${id}`,
            mode: form.mode ?? "payment",
            status: "open",
            payment_status: "unpaid",
            payment_intent: null,
            amount_total: Number(form["line_items[0][price_data][unit_amount]"]) * Number(form["line_items[0][quantity]"] ?? 1),
            currency: form["line_items[0][price_data][currency]"] ?? "usd",
            client_reference_id: form.client_reference_id ?? null,
            metadata,
            success_url: form.success_url,
            cancel_url: form.cancel_url ?? form.success_url,
          };
          sessions.set(id, session);
          record(200);
          return reply(res, 200, session);
        }
        const pay = /^\/pay\/(cs_test_\d+)$/.exec(path);
        const s = pay?.[1] ? sessions.get(pay[1]) : undefined;
        if (pay && s && req.method === "GET") {
          res.writeHead(200, { "content-type": "text/html" });
          return res.end(
            `<!doctype html><html lang="en"><title>Stripe double checkout</title><main><h1>Pay ${(s.amount_total / 100).toFixed(2)} ${s.currency.toUpperCase()}</h1>` +
              `<form method="post"><button type="submit">Pay</button></form></main></html>`,
          );
        }
        if (pay && s && req.method === "POST") {
          const hook = await double.pay(s.id);
          if (hook.status !== 200) return reply(res, 502, { error: "webhook refused", hook });
          res.writeHead(303, { location: s.success_url });
          return res.end();
        }
        record(404);
        reply(res, 404, { error: { type: "invalid_request_error", message: `Unrecognized request URL (${req.method}: ${path})` } });
      },
      (e: Error) => reply(res, 500, { error: { message: e.message } }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
  double.url = base;
  return double;
}
