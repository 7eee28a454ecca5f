// One Node process: HTTP server with /healthz, /readyz, /metrics, PostGraphile at /graphql (+ websocket
// subscriptions), the SvelteKit app (adapter-node handler) for everything else, and graphile-worker.
import { existsSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import pg from "pg";
import type { Logger } from "pino";
import { postgraphile } from "postgraphile";
import { grafserv } from "postgraphile/grafserv/node";
import { collectDefaultMetrics, Registry } from "prom-client";
import { migrationsCurrent } from "../../../db/tools.ts";
import { startWorker } from "../../../worker/src/index.ts";
import { AuthError, makeVerifier } from "./auth.ts";
import type { Config } from "./config.ts";
import { type Database, openDatabase, seedIfWanted } from "./database.ts";
import { extensionFactories } from "./extensions/index.ts";
import type { ServerContext, ServerExtension } from "./extensions/types.ts";
import { makePreset, verifiedSettings } from "./graphql.ts";
import { json, sendError } from "./http.ts";
import { withTimeout } from "./realtime/backoff.ts";

export const HEARTBEAT_MAX_AGE_SECONDS = 30;
/** Settlement runs every 10 s (a batch log row each run, even empty): no batch for this long is a stall. */
export const SETTLEMENT_MAX_AGE_SECONDS = 45;
/** /readyz answers within this, whatever the database does. */
export const READINESS_TIMEOUT_MS = 2000;

type Handler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

async function loadSvelteKit(log: Logger): Promise<Handler | null> {
  const handlerPath = fileURLToPath(new URL("../../build/handler.js", import.meta.url));
  if (!existsSync(handlerPath)) {
    log.warn("web/build is missing: run `npm run build` to serve the web app (API still served)");
    return null;
  }
  const mod = (await import(handlerPath)) as { handler: Handler };
  return mod.handler;
}

export interface App {
  server: Server;
  url: string;
  db: Database;
  close(): Promise<void>;
}

export async function startApp(config: Config, logger: Logger): Promise<App> {
  const t0 = Date.now();
  const db = await openDatabase(config, (m) => logger.info(m));
  // TCP keepalive on every connection: a database host that vanished is noticed by the kernel (docs/operations.md).
  const ownerPool = new pg.Pool({ connectionString: db.ownerUrl, max: config.WORKER_CONCURRENCY + 4, keepAlive: true });
  // `pipeline: true` lets a request's settings travel with its first query (pg-adaptor.ts); code that
  // awaits each query, as every other user of this pool does, behaves exactly as without it.
  const authPool = new pg.Pool({ connectionString: db.authenticatorUrl, max: config.DATABASE_POOL_SIZE, pipeline: true, keepAlive: true });
  let closed = false;
  // After close() has begun, connections dropping is expected, not an error.
  const onDbError = (what: string) => (e: Error) => (closed ? logger.debug({ err: e }, what) : logger.error({ err: e }, what));
  for (const pool of [ownerPool, authPool]) {
    pool.on("error", onDbError("idle database client error"));
    pool.on("connect", (client) => client.on("error", onDbError("database client error")));
  }

  await ownerPool.query("select app_private.configure_auth($1, $2, $3)", [config.JWT_SECRET, config.JWT_AUDIENCE, config.JWT_TTL_SECONDS]);
  await seedIfWanted(config, db, (m) => logger.info(m));

  const runner = config.RUN_WORKER
    ? await startWorker({ pool: ownerPool, concurrency: config.WORKER_CONCURRENCY, log: (l, m) => logger[l]({ component: "worker" }, m) })
    : null;

  const settingsFor = makeVerifier(config);
  const pgl = postgraphile(makePreset({ config, pool: authPool, settingsFor }));
  const serv = pgl.createServ(grafserv);
  const graphqlHandler = serv.createHandler();
  const upgradeHandler = await serv.getUpgradeHandler();
  const kit = config.RUN_WEB ? await loadSvelteKit(logger) : null;

  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "trollcity_" });
  const ctx: ServerContext = { config, logger, ownerPool, authPool, settingsFor, registry };
  const extensions: ServerExtension[] = [];
  for (const factory of extensionFactories) extensions.push(await factory(ctx));
  const routes = extensions.flatMap((x) => x.routes ?? []);

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
    for (const x of extensions) Object.assign(checks, x.ready?.());
    const ok = Object.values(checks).every((v) => v === "ok");
    return { ok, checks };
  }

  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path === "/healthz") return json(res, 200, { status: "ok" });
    if (path === "/readyz") {
      readiness().then(
        ({ ok, checks }) => json(res, ok ? 200 : 503, { status: ok ? "ok" : "not ready", ...checks }),
        () => json(res, 503, { status: "not ready" }),
      );
      return;
    }
    if (path === "/metrics") {
      registry.metrics().then(
        (body) => {
          res.writeHead(200, { "content-type": registry.contentType });
          res.end(body);
        },
        (e: Error) => json(res, 500, { error: e.message }),
      );
      return;
    }
    if (path === "/graphql" || path === "/graphiql" || path.startsWith("/ruru-static/")) {
      settingsFor(req.headers.authorization).then(
        (settings) => {
          verifiedSettings.set(req, settings);
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
    for (const x of extensions) if (x.upgrade?.(req, socket, head)) return;
    if (upgradeHandler && serv.shouldHandleUpgrade(req, socket, head)) return upgradeHandler(req, socket, head);
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
      // Extensions end their upgraded sockets (which closeAllConnections does not know), then the server is closed.
      const extensionsBy = Date.now() + 3000;
      for (const x of extensions.reverse()) {
        await step(`stopping ${x.name}`, Math.max(100, Math.min(2000, extensionsBy - Date.now())), async () => await x.stop?.());
      }
      await step("closing the HTTP server", 1000, () => httpClosed);
      if (runner) await step("stopping the worker", 3000, () => runner.stop());
      await step("releasing PostGraphile", 1000, async () => await pgl.release());
      await step("closing the database pools", 1000, () => Promise.all([authPool.end(), ownerPool.end()]));
      await db.close();
    },
  };
}
