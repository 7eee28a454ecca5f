// `npm start`: the whole app (see app.ts). SIGINT/SIGTERM stop it cleanly.
// WEB_CONCURRENCY=N (N > 1) runs N processes sharing the port (node:cluster): the primary prepares
// the database once (embedded start, migrations, demo seed) and forks N workers, each a full app with
// its own LISTEN connection and broadcast sockets (docs/architecture.md, rule 6); graphile-worker runs in the first.
// A worker that dies is replaced, and its viewers are removed from the presence counts at once (a
// SIGKILLed process cannot clear them itself; otherwise they count until 15 s old). With the default (1) everything runs in this one process.
// The config is read here, once per process, and passed down.
import cluster, { type Worker } from "node:cluster";
import { hostname } from "node:os";
import pg from "pg";
import { type Config, ConfigError, loadConfig } from "../../../core/config.ts";
import { openDatabase, seedIfWanted } from "../../../core/database.ts";
import { createLogger } from "../../../core/logger.ts";
import { startApp } from "./app.ts";

let config: Config;
try {
  config = loadConfig();
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(e.message);
    process.exit(78); // EX_CONFIG
  }
  throw e;
}
const logger = createLogger(config, "trollcity");

if (config.WEB_CONCURRENCY > 1 && cluster.isPrimary) {
  await runPrimary(config.WEB_CONCURRENCY);
} else {
  await runApp();
}

async function runApp() {
  const app = await startApp(config, logger).catch((e: Error) => {
    logger.fatal({ err: e }, `could not start: ${e.message}`);
    process.exit(1);
  });
  // A plain line for people and scripts, whatever the log format.
  console.log(`Troll City is running at ${app.url}${cluster.isWorker ? ` (process ${cluster.worker?.id})` : ""}`);

  let stopping = false;
  async function stop(signal: string) {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: shutting down`);
    const timer = setTimeout(() => process.exit(1), 10_000);
    timer.unref();
    await app.close();
    process.exit(0);
  }
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
}

async function runPrimary(n: number) {
  const db = await openDatabase(config, (m) => logger.info(m)).catch((e: Error) => {
    logger.fatal({ err: e }, `could not prepare the database: ${e.message}`);
    process.exit(1);
  });
  await seedIfWanted(config, db, (m) => logger.info(m));
  // Workers use the database prepared here; only the first runs graphile-worker.
  const envFor = (index: number) => ({
    DATABASE_URL: db.adminUrl,
    SEED_DEMO: "never",
    RUN_WORKER: index === 0 ? String(config.RUN_WORKER) : "false",
  });
  const slots = new Map<Worker, number>();
  let stopping = false;
  const fork = (index: number) => {
    const w = cluster.fork(envFor(index));
    slots.set(w, index);
  };
  cluster.on("exit", (w, code, signal) => {
    const index = slots.get(w) ?? 0;
    slots.delete(w);
    if (stopping) return;
    logger.error({ code, signal }, `process ${index} exited; starting a new one`);
    if (w.process.pid) void clearPresenceOf(db.adminUrl, w.process.pid);
    setTimeout(() => fork(index), 1000).unref();
  });
  for (let i = 0; i < n; i++) fork(i);
  logger.info(`${n} processes share port ${config.PORT}`);

  async function stop(signal: string) {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: stopping ${slots.size} processes`);
    const timer = setTimeout(() => process.exit(1), 15_000);
    timer.unref();
    await Promise.all(
      [...slots.keys()].map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) return resolve();
            w.once("exit", () => resolve());
            w.process.kill("SIGTERM");
          }),
      ),
    );
    await db.close();
    process.exit(0);
  }
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
}

/** Remove a dead child's presence rows (RealtimeHub.nodeId is `<hostname>/<pid>/<random>`). Best effort. */
async function clearPresenceOf(url: string, pid: number) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000, application_name: "trollcity:primary" });
  client.on("error", () => {});
  try {
    await client.connect();
    const prefix = `${hostname()}/${pid}/`;
    const { rowCount } = await client.query("delete from app_private.presence_counts where left(node_id, length($1)) = $1", [prefix]);
    logger.info(`cleared ${rowCount ?? 0} presence rows of the exited process ${pid}`);
  } catch (e) {
    logger.warn({ err: e }, "could not clear the exited process's presence (it expires in 15 s)");
  } finally {
    await client.end().catch(() => {});
  }
}
