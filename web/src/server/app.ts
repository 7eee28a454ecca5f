// One Node process: HTTP server with /healthz, /readyz, /metrics, PostGraphile at /graphql (+ websocket
// subscriptions), the features (features/: routes, websocket upgrades), the SvelteKit app
// (adapter-node handler) for everything else, and graphile-worker. Everything the process shares
// (pools, realtime hub, LiveKit settings) is made here once and handed down: to the features as the
// ServerContext, to GraphQL as the request context.
import { timingSafeEqual } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import pg from "pg";
import type { Logger } from "pino";
import { postgraphile } from "postgraphile";
import { grafserv } from "postgraphile/grafserv/node";
import { collectDefaultMetrics, Registry } from "prom-client";
import type { Config } from "../../../core/config.ts";
import { type Database, OWNER_POOL_TIMEOUTS, openDatabase, seedIfWanted } from "../../../core/database.ts";
import { livekitSettings } from "../../../core/livekit/config.ts";
import { isPrivateAddress, playbackOutbound } from "../../../core/outbound.ts";
import { muxSettings } from "../../../core/video/mux.ts";
import { migrationsCurrent } from "../../../db/tools.ts";
import { startWorker } from "../../../worker/src/index.ts";
import { AuthError, makeVerifier, type PgSettings } from "./auth.ts";
import { addressKey, clientAddress, originAllowed, trustedProxies } from "./client-address.ts";
import { featureFactories } from "./features/index.ts";
import type { Feature, ServerContext } from "./features/types.ts";
import { makePreset } from "./graphql/index.ts";
import { makeGraphqlWebsocket } from "./graphql/websocket.ts";
import { json, sendError } from "./http.ts";
import { withTimeout } from "./realtime/backoff.ts";
import { RealtimeHub } from "./realtime/hub.ts";
import { createWritePath } from "./writes.ts";

export const HEARTBEAT_MAX_AGE_SECONDS = 30;
/** Settlement runs every 10 s (a batch log row each run, even empty): no batch for this long is a stall. */
export const SETTLEMENT_MAX_AGE_SECONDS = 45;
/** /readyz answers within this, whatever the database does. */
export const READINESS_TIMEOUT_MS = 2000;

type Handler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/** The header this server sets on every request it hands SvelteKit: the protocol it was reached by. */
const PROTOCOL_HEADER = "x-trollcity-protocol";

async function loadSvelteKit(config: Config, log: Logger): Promise<Handler | null> {
  const handlerPath = fileURLToPath(new URL("../../build/handler.js", import.meta.url));
  if (!existsSync(handlerPath)) {
    log.warn("web/build is missing: run `npm run build` to serve the web app (API still served)");
    return null;
  }
  // adapter-node reads its settings from the environment when it is imported. Its request URL (for
  // form actions' same-origin check and Secure cookies) is PUBLIC_URL when set (a TLS proxy in
  // front); otherwise plain http at the Host header, told through a header this server overwrites.
  if (config.PUBLIC_URL) process.env.ORIGIN = config.PUBLIC_URL.replace(/\/$/, "");
  else process.env.PROTOCOL_HEADER = PROTOCOL_HEADER;
  const mod = (await import(handlerPath)) as { handler: Handler };
  if (config.PUBLIC_URL) return mod.handler;
  return (req, res, next) => {
    req.headers[PROTOCOL_HEADER] = "http";
    mod.handler(req, res, next);
  };
}

export interface App {
  server: Server;
  url: string;
  db: Database;
  close(): Promise<void>;
}

const METRICS_CACHE_MS = 2000;

/**
 * /metrics is for the operator's Prometheus: with METRICS_TOKEN set it needs `Authorization: Bearer
 * <token>`; without one, only loopback and private-network peers may scrape (the socket's address,
 * never a forwarded header). Returns the HTTP status to refuse with, or null.
 */
export function metricsDenied(config: Config, req: IncomingMessage): 401 | 403 | null {
  if (config.METRICS_TOKEN) {
    const given = Buffer.from(req.headers.authorization ?? "");
    const want = Buffer.from(`Bearer ${config.METRICS_TOKEN}`);
    return given.length === want.length && timingSafeEqual(given, want) ? null : 401;
  }
  return isPrivateAddress(req.socket.remoteAddress ?? "") ? null : 403;
}

export async function startApp(config: Config, logger: Logger): Promise<App> {
  const t0 = Date.now();
  const db = await openDatabase(config, (m) => logger.info(m));
  // The owner's pool (relay, settlement, worker jobs): generous but bounded timeouts.
  const ownerPool = new pg.Pool({
    connectionString: db.ownerUrl,
    max: config.WORKER_CONCURRENCY + 4,
    ...OWNER_POOL_TIMEOUTS,
    keepAlive: true,
  });
  // `pipeline: true` lets a request's settings travel with its first query (pg-adaptor.ts); code that
  // awaits each query, as every other user of this pool does, behaves exactly as without it.
  // A request waits at most DATABASE_POOL_ACQUIRE_MS for a connection, then gets BUSY (503, retry
  // after 1 s) instead of queueing behind slow requests without bound.
  const authPool = new pg.Pool({
    connectionString: db.authenticatorUrl,
    max: config.DATABASE_POOL_SIZE,
    pipeline: true,
    connectionTimeoutMillis: config.DATABASE_POOL_ACQUIRE_MS,
    // TCP keepalive on every connection: a database host that vanished is noticed by the kernel.
    keepAlive: true,
  });
  let closed = false;
  // After close() has begun, connections dropping is expected, not an error.
  const onDbError = (what: string) => (e: Error) => (closed ? logger.debug({ err: e }, what) : logger.error({ err: e }, what));
  for (const pool of [ownerPool, authPool]) {
    pool.on("error", onDbError("idle database client error"));
    pool.on("connect", (client) => client.on("error", onDbError("database client error")));
  }

  await ownerPool.query("select app_private.configure_auth($1, $2, $3)", [config.JWT_SECRET, config.JWT_AUDIENCE, config.JWT_TTL_SECONDS]);
  await seedIfWanted(config, db, (m) => logger.info(m));

  const livekit = livekitSettings(config);
  // One policy object: the worker's HLS checks read it, the demo origin adds itself once listening.
  const outbound = playbackOutbound(config);
  const runner = config.RUN_WORKER
    ? await startWorker({
        pool: ownerPool,
        concurrency: config.WORKER_CONCURRENCY,
        livekit,
        outbound,
        mux: muxSettings(config),
        logger,
      })
    : null;

  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "trollcity_" });
  const hub = new RealtimeHub({
    ownerPool,
    logger,
    registry,
    relayTickMs: config.RELAY_TICK_MS,
    presenceFlushMs: config.PRESENCE_FLUSH_MS,
  });
  hub.start();

  const settingsFor = makeVerifier(config);
  // The client's address for per-address limits (trusted proxies' X-Forwarded-For, IPv6 per /64).
  const proxies = trustedProxies(config.TRUSTED_PROXIES);
  const addressOf = (req: IncomingMessage) => addressKey(clientAddress(req, proxies));
  // Settings verified by the HTTP layer before the request reached grafserv.
  const verified = new WeakMap<IncomingMessage, PgSettings>();
  const writes = createWritePath({
    connectionString: db.authenticatorUrl,
    logger,
    registry,
    maxInFlight: config.WRITE_LANES,
    maxBatch: config.WRITE_BATCH_MAX,
    maxQueue: config.WRITE_QUEUE_MAX,
  });
  const pgl = postgraphile(makePreset({ config, pool: authPool, settingsFor, verified, hub, livekit, writes, addressOf }));
  const serv = pgl.createServ(grafserv);
  const graphqlHandler = serv.createHandler();
  // graphql-ws on /graphql with our limits (graphql/websocket.ts) instead of grafserv's own handler.
  const graphqlWs = makeGraphqlWebsocket(serv, {
    maxMessageBytes: config.GRAPHQL_WS_MAX_MESSAGE_BYTES,
    maxOperations: config.GRAPHQL_WS_MAX_OPERATIONS,
    maxPerAddress: config.GRAPHQL_WS_MAX_PER_ADDRESS,
    pingMs: config.BROADCAST_PING_MS,
    addressOf,
    originAllowed: (req) => originAllowed(req, config),
  });
  const kit = config.RUN_WEB ? await loadSvelteKit(config, logger) : null;

  const ctx: ServerContext = { config, logger, ownerPool, authPool, settingsFor, registry, hub, livekit, outbound, writes, addressOf };
  const features: Feature[] = [];
  for (const factory of featureFactories) features.push(await factory(ctx));
  const routes = features.flatMap((x) => x.routes ?? []);

  /**
   * /readyz: every part that must work for the app to work, each "ok" or a short reason (never raw
   * error text): database, migrations, worker heartbeat, settlement (last batch recent), and the
   * extensions' own checks (realtime: relay loop ticking, LISTEN connection alive).
   */
  async function readiness() {
    const checks: Record<string, string> = {
      database: "down",
      migrations: "unknown",
      worker: "unknown",
      settlement: "unknown",
    };
    const probe = async () => {
      const client = await ownerPool.connect();
      try {
        await client.query("select 1");
        checks.database = "ok";
        checks.migrations = (await migrationsCurrent(client)) ? "ok" : "behind";
        const { rows } = await client.query<{ beat: number | null; batch: number | null }>(
          `select extract(epoch from now() - (select max(beat_at) from app_private.worker_heartbeats))::float8 as beat,
                  extract(epoch from now() - (select finished_at from app_public.gift_batch_logs order by id desc limit 1))::float8 as batch`,
        );
        const age = rows[0]?.beat;
        checks.worker =
          age != null && age <= HEARTBEAT_MAX_AGE_SECONDS ? "ok" : age == null ? "no heartbeat yet" : `stale (${Math.round(age)} s)`;
        const batch = rows[0]?.batch;
        checks.settlement =
          batch != null && batch <= SETTLEMENT_MAX_AGE_SECONDS
            ? "ok"
            : batch == null
              ? "no batch yet"
              : `stalled (last batch ${Math.round(batch)} s ago)`;
      } finally {
        client.release();
      }
    };
    try {
      await withTimeout(probe(), READINESS_TIMEOUT_MS, "readiness");
    } catch (e) {
      const code = (e as { code?: string }).code;
      const reason = code === "ECONNREFUSED" ? "unreachable" : code ? `error ${code}` : "no answer";
      for (const [k, v] of Object.entries(checks))
        if (v === "unknown" || v === "down") checks[k] = k === "database" ? reason : "not checked";
      if (checks.database === "ok") checks.database = `ok, then ${reason}`;
    }
    for (const x of features) Object.assign(checks, x.ready?.());
    const ok = Object.values(checks).every((v) => v === "ok");
    // External services (features/services.ts): reported, never a reason to be unready.
    const services = Object.assign({}, ...features.map((x) => x.services?.() ?? {})) as Record<string, string>;
    return { ok, checks, services };
  }

  // One collection per METRICS_CACHE_MS, shared by every scrape: the database queries behind the
  // gauges run on the owner's pool, which relay and settlement share, so scrapes must not multiply them.
  let metricsCache: { at: number; body: Promise<string> } | null = null;
  const metrics = () => {
    if (!metricsCache || Date.now() - metricsCache.at > METRICS_CACHE_MS) {
      const body = registry.metrics();
      metricsCache = { at: Date.now(), body };
      body.catch((e: Error) => {
        logger.error({ err: e }, "metrics collection failed");
        metricsCache = null;
      });
    }
    return metricsCache.body;
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path === "/healthz") return json(res, 200, { status: "ok" });
    if (path === "/readyz") {
      readiness().then(
        ({ ok, checks, services }) =>
          json(res, ok ? 200 : 503, { status: ok ? "ok" : "not ready", ...checks, ...(Object.keys(services).length ? { services } : {}) }),
        () => json(res, 503, { status: "not ready" }),
      );
      return;
    }
    if (path === "/metrics") {
      const denied = metricsDenied(config, req);
      if (denied) return json(res, denied, { error: { code: "DENYD", message: "metrics need METRICS_TOKEN (or a private network)" } });
      metrics().then(
        (body) => {
          res.writeHead(200, { "content-type": registry.contentType });
          res.end(body);
        },
        () => json(res, 500, { error: { code: "INTERNAL", message: "metrics failed (see the server log)" } }),
      );
      return;
    }
    if (path === "/graphql" || path === "/graphiql" || path.startsWith("/ruru-static/")) {
      settingsFor(req.headers.authorization).then(
        (settings) => {
          verified.set(req, settings);
          graphqlHandler(req, res, () => json(res, 404, { error: "not found" }));
        },
        (e: Error) => {
          const status = e instanceof AuthError ? 401 : 500;
          json(res, status, { errors: [{ message: e.message, extensions: { code: "NOAUT", httpStatus: status } }] });
        },
      );
      return;
    }
    const route = routes.find((r) => r.path === path && r.method === req.method);
    if (route) {
      route.handle(req, res, ctx).catch((e: unknown) => {
        if (!res.headersSent) sendError(res, e);
        else res.destroy();
      });
      return;
    }
    if (kit) return kit(req, res, () => json(res, 404, { error: "not found" }));
    json(res, 404, { error: "not found" });
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    for (const x of features) if (x.upgrade?.(req, socket, head)) return;
    if ((req.url ?? "").split("?")[0] === "/graphql") return graphqlWs.upgrade(req, socket, head);
    socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.PORT, config.HOST, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : config.PORT;
  const shownHost = config.HOST === "0.0.0.0" || config.HOST === "::" ? "localhost" : config.HOST;
  const url = config.PUBLIC_URL ?? `http://${shownHost}:${port}`;
  for (const x of features) await x.listening?.(url);
  logger.info(
    { ms: Date.now() - t0 },
    `Troll City is up: ${url}  (GraphQL ${url}/graphql${config.graphiql ? `, GraphiQL ${url}/graphiql` : ""})`,
  );

  return {
    server,
    url,
    db,
    // Bounded in every state (database down, restarted, half-open): each step gets a few seconds at
    // most (HTTP 1 s, extensions 3 s together, worker 3 s, PostGraphile 1 s, pools 1 s), so the whole
    // close stays inside main.ts's 10 s limit.
    async close() {
      if (closed) return;
      closed = true;
      const step = (what: string, ms: number, p: () => Promise<unknown>) =>
        withTimeout(p(), ms, what).catch((e: Error) => logger.warn(`shutdown: ${e.message}`));
      const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      // Features end their upgraded sockets (which closeAllConnections does not know), then the server is closed.
      const featuresBy = Date.now() + 3000;
      for (const x of features.reverse()) {
        await step(`stopping ${x.name}`, Math.max(100, Math.min(2000, featuresBy - Date.now())), async () => await x.stop?.());
      }
      await step("closing the HTTP server", 1000, () => httpClosed);
      await step("draining the write batcher", 2000, () => writes.close());
      await step("stopping the realtime hub", 1000, () => hub.stop());
      if (runner) await step("stopping the worker", 3000, () => runner.stop());
      await step("closing GraphQL websockets", 1000, () => graphqlWs.close());
      await step("releasing PostGraphile", 1000, async () => await pgl.release());
      await step("closing the database pools", 1000, () => Promise.all([authPool.end(), ownerPool.end()]));
      await db.close();
    },
  };
}
