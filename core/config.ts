// Configuration: read and validated once at start. A missing or malformed setting stops the process
// with the variable's name and how to fix it. Every variable is documented in .env.example.
import { z } from "zod";

export const DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789abcdef";
export const DEV_AUTHENTICATOR_PASSWORD = "dev-only-authenticator-password";

const bool = z.enum(["true", "false", "1", "0", "yes", "no"]).transform((v) => v === "true" || v === "1" || v === "yes");

const pgUrl = z
  .string()
  .url()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), "must start with postgres:// or postgresql://");

const fields = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  PUBLIC_URL: z.string().url().optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  LOG_FORMAT: z.enum(["json", "pretty"]).optional(),
  DATABASE_URL: pgUrl.optional(),
  EMBEDDED_PG_DIR: z.string().min(1).default(".data/postgres"),
  EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  AUTHENTICATOR_PASSWORD: z.string().min(16).default(DEV_AUTHENTICATOR_PASSWORD),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  JWT_SECRET: z.string().min(32, "must be at least 32 characters (e.g. `openssl rand -hex 32`)").default(DEV_JWT_SECRET),
  JWT_AUDIENCE: z.string().min(1).default("trollcity"),
  JWT_TTL_SECONDS: z.coerce.number().int().min(60).max(86400).default(900),
  RUN_WORKER: bool.default(true),
  RUN_WEB: bool.default(true),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(50).default(4),
  SEED_DEMO: z.enum(["auto", "always", "never"]).default("auto"),
  // With the demo seed: chat, settled gifts and a moderation entry on the live demo stream (the test
  // suites turn it off so their numbers start from zero).
  SEED_DEMO_ACTIVITY: bool.default(true),
  GRAPHIQL: bool.optional(),
  // GraphQL introspection and "Did you mean" suggestions: on in development, off in production
  // (NODE_ENV or GRAPHILE_ENV = production) unless set to true.
  GRAPHQL_INTROSPECTION: bool.optional(),
  GRAPHILE_ENV: z.string().optional(),
  // Trusted documents for browser requests (an Origin header or the session cookie): only the web
  // app's own GraphQL documents, collected at build (scripts/trusted-documents.ts). auto: enforced
  // in production (NODE_ENV or GRAPHILE_ENV = production); enforce: always; off: never. Other
  // clients (no Origin, no cookie) may send any document, within the limits.
  TRUSTED_DOCUMENTS: z.enum(["auto", "enforce", "off"]).default("auto"),
  // The manifest (sha256 -> document); default web/build/trusted-documents.json, written by `npm run build`.
  TRUSTED_DOCUMENTS_FILE: z.string().optional(),
  // How long a request may wait for a database connection before it is answered 503 + Retry-After.
  DATABASE_POOL_ACQUIRE_MS: z.coerce.number().int().min(100).max(60000).default(3000),
  LIVEKIT_URL: z
    .string()
    .url()
    .refine((v) => /^(wss?|https?):\/\//.test(v), "must be a ws://, wss://, http:// or https:// URL")
    .optional(),
  LIVEKIT_API_KEY: z.string().min(3).optional(),
  LIVEKIT_API_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  // Bearer token Prometheus sends to /metrics; unset: only loopback/private-network peers may scrape.
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  PAYMENT_WEBHOOK_SECRET: z.string().min(32, "must be at least 32 characters (the signing secret your payment provider shows)").optional(),
  // Stripe Checkout (coin packs, /checkout and /webhooks/stripe): the secret API key, the webhook
  // endpoint's signing secret, and (tests only) another API base such as a local double.
  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^(sk|rk)_[A-Za-z0-9_]+$/, "must be a Stripe secret key (sk_test_… or sk_live_…)")
    .optional(),
  STRIPE_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9_]+$/, "must be the webhook signing secret (whsec_…)")
    .optional(),
  STRIPE_API_BASE: z.string().url().optional(),
  // Playback (viral mode): self-hosted HLS origin, a CDN pull zone mapped to it, Mux's playback host.
  PLAYBACK_ORIGIN_URL: z.string().url().optional(),
  PLAYBACK_CDN_URL: z.string().url().optional(),
  PLAYBACK_MUX_URL: z.string().url().default("https://stream.mux.com"),
  // Mux (viral mode through a LiveKit egress, RTMP to a Mux live stream): an access token with Mux
  // Video read and write, the API and RTMP ingest URLs.
  PLAYBACK_MUX_TOKEN_ID: z.string().min(1).optional(),
  PLAYBACK_MUX_TOKEN_SECRET: z.string().min(1).optional(),
  PLAYBACK_MUX_API_URL: z.string().url().default("https://api.mux.com"),
  PLAYBACK_MUX_RTMP_URL: z
    .string()
    .url()
    .refine((v) => /^rtmps?:\/\//.test(v), "must be an rtmp:// or rtmps:// URL")
    .default("rtmps://global-live.mux.com:443/app"),
  // The demo stream's HLS test picture (made once with ffmpeg, served at /demo-hls/): on by default
  // outside production when no PLAYBACK_ORIGIN_URL is set.
  DEMO_HLS: z.enum(["auto", "on", "off"]).default("auto"),
  DEMO_HLS_DIR: z.string().min(1).default(".data/demo-hls"),
  VIRAL_ENTER_VIEWERS: z.coerce.number().int().min(1).default(1000),
  VIRAL_EXIT_VIEWERS: z.coerce.number().int().min(0).default(500),
  // Realtime (docs/realtime-protocol.md): processes sharing the port, relay and presence cadence, socket hygiene.
  WEB_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  RELAY_TICK_MS: z.coerce.number().int().min(10).max(1000).default(75),
  PRESENCE_FLUSH_MS: z.coerce.number().int().min(200).max(10000).default(2000),
  BROADCAST_MAX_PER_IP: z.coerce.number().int().min(1).max(1000000).default(20),
  BROADCAST_MAX_BUFFER_BYTES: z.coerce.number().int().min(1024).default(1048576),
  BROADCAST_PING_MS: z.coerce.number().int().min(1000).max(300000).default(30000),
  // Sockets (docs/security.md): who the client is behind a proxy, which origins may open websockets,
  // and the GraphQL websocket's limits.
  TRUSTED_PROXIES: z.string().optional(),
  ALLOWED_ORIGINS: z.string().optional(),
  GRAPHQL_WS_MAX_OPERATIONS: z.coerce.number().int().min(1).max(1000).default(10),
  GRAPHQL_WS_MAX_PER_ADDRESS: z.coerce.number().int().min(1).max(1000000).default(20),
  GRAPHQL_WS_MAX_MESSAGE_BYTES: z.coerce.number().int().min(1024).max(16777216).default(65536),
  // Frames (auth, chat, gift) a broadcast socket may send per second; bursts of twice as many.
  BROADCAST_SEND_RATE: z.coerce.number().int().min(1).max(100000).default(20),
  // Group commit (web/src/server/writes.ts): batches running at once per write path (lanes, by sender),
  // requests per batch, requests waiting per lane before BUSY.
  WRITE_LANES: z.coerce.number().int().min(1).max(64).default(2),
  WRITE_BATCH_MAX: z.coerce.number().int().min(1).max(10000).default(256),
  WRITE_QUEUE_MAX: z.coerce.number().int().min(1).max(1000000).default(10000),
});

/** Every variable the server reads. */
export const CONFIG_KEYS = Object.keys(fields.shape);

const schema = fields.superRefine((c, ctx) => {
  for (const raw of (c.TRUSTED_PROXIES ?? "")
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean)) {
    if (raw !== "loopback" && !/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(raw))
      ctx.addIssue({ code: "custom", path: ["TRUSTED_PROXIES"], message: `"${raw}" is not an address, a CIDR range or "loopback"` });
  }
  for (const raw of (c.ALLOWED_ORIGINS ?? "")
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean)) {
    if (!/^https?:\/\/[^/\s]+$/.test(raw))
      ctx.addIssue({ code: "custom", path: ["ALLOWED_ORIGINS"], message: `"${raw}" is not an origin like https://example.com` });
  }
  const lk = [c.LIVEKIT_URL, c.LIVEKIT_API_KEY, c.LIVEKIT_API_SECRET].filter(Boolean).length;
  if (lk > 0 && lk < 3) {
    for (const k of ["LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"] as const) {
      if (!c[k])
        ctx.addIssue({ code: "custom", path: [k], message: "is required when any LIVEKIT_* variable is set (set all three, or none)" });
    }
  }
  if (Boolean(c.PLAYBACK_MUX_TOKEN_ID) !== Boolean(c.PLAYBACK_MUX_TOKEN_SECRET)) {
    for (const k of ["PLAYBACK_MUX_TOKEN_ID", "PLAYBACK_MUX_TOKEN_SECRET"] as const) {
      if (!c[k])
        ctx.addIssue({ code: "custom", path: [k], message: "is required when the other PLAYBACK_MUX_TOKEN_* is set (set both, or none)" });
    }
  }
  if (c.LIVEKIT_API_SECRET && c.LIVEKIT_API_SECRET === c.JWT_SECRET) {
    ctx.addIssue({
      code: "custom",
      path: ["JWT_SECRET"],
      message: "must not be the LiveKit secret: API tokens and LiveKit tokens use different keys",
    });
  }
  if (c.NODE_ENV === "production") {
    if (c.JWT_SECRET === DEV_JWT_SECRET) {
      ctx.addIssue({
        code: "custom",
        path: ["JWT_SECRET"],
        message: "is the development default; set a secret of your own in production (e.g. `openssl rand -hex 32`)",
      });
    }
    if (c.AUTHENTICATOR_PASSWORD === DEV_AUTHENTICATOR_PASSWORD) {
      ctx.addIssue({
        code: "custom",
        path: ["AUTHENTICATOR_PASSWORD"],
        message: "is the development default; set a password of your own in production",
      });
    }
    if (!c.DATABASE_URL) {
      ctx.addIssue({
        code: "custom",
        path: ["DATABASE_URL"],
        message: "is required in production (the embedded database is for development)",
      });
    }
    if (c.SEED_DEMO === "always") {
      ctx.addIssue({
        code: "custom",
        path: ["SEED_DEMO"],
        message: "must not be `always` in production: the demo accounts (admin included) share a published password",
      });
    }
    if (c.LIVEKIT_API_KEY === "devkey" || c.LIVEKIT_API_SECRET === "secret") {
      ctx.addIssue({ code: "custom", path: ["LIVEKIT_API_KEY"], message: "is LiveKit's dev-mode key; use real keys in production" });
    }
  }
});

export type Config = z.infer<typeof schema> & {
  graphiql: boolean;
  isProduction: boolean;
  introspection: boolean;
  /** Browser requests must use a trusted document (TRUSTED_DOCUMENTS). */
  trustedDocuments: boolean;
};

export class ConfigError extends Error {}

/** Parse the environment; throws ConfigError with one line per bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== "") input[k] = v;
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = String(i.path[0] ?? "config");
      // Never echo a secret: not the secrets themselves, nor a URL that may carry a password.
      const got = name in input && !/SECRET|PASSWORD|_URL$/.test(name) ? ` (got "${input[name]}")` : "";
      return `  ${name}: ${i.message}${got}`;
    });
    throw new ConfigError(`Invalid configuration — fix these environment variables (see .env.example):\n${lines.join("\n")}`);
  }
  const c = parsed.data;
  const isProduction = c.NODE_ENV === "production";
  const introspection = c.GRAPHQL_INTROSPECTION ?? !(isProduction || c.GRAPHILE_ENV === "production");
  const trustedDocuments =
    c.TRUSTED_DOCUMENTS === "enforce" || (c.TRUSTED_DOCUMENTS === "auto" && (isProduction || c.GRAPHILE_ENV === "production"));
  // GraphiQL needs introspection.
  return { ...c, graphiql: (c.GRAPHIQL ?? c.NODE_ENV === "development") && introspection, isProduction, introspection, trustedDocuments };
}
