// Database setup and migration, shared by the server, the worker, the seed and the test harness.
// Roles are cluster-wide and set up idempotently (db/setup.sql); the schema comes only from the
// committed graphile-migrate migrations (db/migrations/committed), applied roll-forward. The current
// definition of every function, view, policy and grant is in db/src/ (db/migrations/fixtures links
// there), included into migrations with graphile-migrate's `--!include`.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Logger, migrate } from "graphile-migrate";
// graphile-migrate 2 resolves `--!include` against <migrationsFolder>/fixtures (a link to db/src).
import { compileIncludes } from "graphile-migrate/dist/migration.js";
// graphile-migrate keeps its pools for 200 ms after use and exits the process if one of their idle
// connections is then terminated (a database dropped or restarted): close them when done.
import { clearAllPools } from "graphile-migrate/dist/pgReal.js";
import pg from "pg";

export const dbDir = fileURLToPath(new URL(".", import.meta.url));
export const migrationsFolder = fileURLToPath(new URL("./migrations", import.meta.url));
export const srcFolder = fileURLToPath(new URL("./src", import.meta.url));

export type Log = (msg: string) => void;

/**
 * Create the request roles (anon, authenticated, authenticator) and set authenticator's password.
 * Roles are cluster-wide: processes starting at once against one cluster (cluster mode, tests) may
 * race on the same catalog rows ("tuple concurrently updated"), so the step is retried.
 */
export async function setupRoles(rootUrl: string, authenticatorPassword: string): Promise<void> {
  const setupSql = readFileSync(new URL("./setup.sql", import.meta.url), "utf8");
  for (let attempt = 1; ; attempt++) {
    const client = new pg.Client({ connectionString: rootUrl });
    await client.connect();
    try {
      await client.query(setupSql);
      await client.query(`alter role authenticator with login noinherit password ${client.escapeLiteral(authenticatorPassword)}`);
      return;
    } catch (e) {
      const err = e as { code?: string; message?: string };
      const race = err.code === "XX000" || err.code === "23505" || err.code === "40001" || /concurrently/.test(err.message ?? "");
      if (!race || attempt >= 5) throw e;
      await new Promise((r) => setTimeout(r, 50 * attempt + Math.random() * 100));
    } finally {
      await client.end();
    }
  }
}

/** Create the database named in `url` if it does not exist (connecting to its `postgres` database). */
export async function ensureDatabase(url: string): Promise<boolean> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query("select 1 from pg_database where datname = $1", [name]);
    if (rowCount) return false;
    await client.query(`create database ${client.escapeIdentifier(name)}`);
    return true;
  } finally {
    await client.end();
  }
}

/**
 * The twelve migrations of sessions 1-2 were squashed into 000001-baseline on 2026-12-01 (the schema
 * they produce is identical: db/schema.sql did not change). A database migrated by that chain is
 * re-stamped to the baseline once; one stopped part-way through the old chain cannot be.
 */
export const LEGACY_CHAIN = {
  lastFilename: "000012.sql",
  lastHash: "sha1:f4936c63004493c09e00d5697d75b21296b68bb0",
  count: 12,
};

/** Re-stamp a database migrated by the pre-baseline chain. Returns true when it did. */
export async function restampLegacy(client: pg.ClientBase, log: Log = () => {}): Promise<boolean> {
  const { rows: has } = await client.query<{ ok: boolean }>("select to_regclass('graphile_migrate.migrations') is not null as ok");
  if (!has[0]?.ok) return false;
  const { rows } = await client.query<{ filename: string; hash: string }>(
    "select filename, hash from graphile_migrate.migrations order by filename",
  );
  const baselineFile = readdirSync(`${migrationsFolder}/committed`)
    .filter((f) => f.endsWith(".sql"))
    .sort()[0];
  if (!baselineFile) throw new Error("db/migrations/committed has no migrations");
  const hash = readFileSync(`${migrationsFolder}/committed/${baselineFile}`, "utf8").match(/^--! Hash: (\S+)$/m)?.[1];
  if (!hash) throw new Error(`db/migrations/committed/${baselineFile} has no hash header`);
  if (!rows.length || rows[0]?.hash === hash) return false;
  const last = rows.at(-1);
  if (rows.length !== LEGACY_CHAIN.count || last?.filename !== LEGACY_CHAIN.lastFilename || last.hash !== LEGACY_CHAIN.lastHash) {
    throw new Error(
      `this database was migrated by an older Troll City and stopped at ${last?.filename ?? "?"} (${rows.length} migrations); ` +
        "upgrade it to 000012 with Troll City at commit ccaf4f9 first, then start this version",
    );
  }
  // graphile-migrate records a migration by its number ("000001.sql").
  const baseline = `${baselineFile.slice(0, 6)}.sql`;
  await client.query("begin");
  try {
    await client.query("lock table graphile_migrate.migrations in exclusive mode");
    await client.query("delete from graphile_migrate.migrations");
    await client.query("insert into graphile_migrate.migrations (hash, previous_hash, filename, date) values ($1, null, $2, now())", [
      hash,
      baseline,
    ]);
    await client.query("commit");
  } catch (e) {
    await client.query("rollback");
    throw e;
  }
  log(`re-stamped the ${LEGACY_CHAIN.count} pre-baseline migrations as ${baseline} (same schema)`);
  return true;
}

/** The role that owns the app's objects. A superuser connection works as it; another login owns them itself. */
export const OWNER_ROLE = "trollcity_owner";

/** Is the connection's login a superuser? Then the app's objects belong to OWNER_ROLE, not to it. */
export async function connectsAsSuperuser(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client.query<{ s: boolean }>("select rolsuper as s from pg_roles where rolname = session_user");
  return rows[0]?.s === true;
}

/** `url` with every session switched to the owner role at connect time (`options=-c role=...`). */
export function asOwner(url: string): string {
  const u = new URL(url);
  u.searchParams.set("options", `-c role=${OWNER_ROLE}`);
  return u.toString();
}

/**
 * The superuser's part, before migrations: the database, the extensions and the ownership of what a
 * superuser created earlier (databases migrated before the owner role existed) go to OWNER_ROLE.
 * Idempotent and cheap when everything is in place.
 */
export async function ensureOwnership(client: pg.ClientBase, log: Log = () => {}): Promise<void> {
  await client.query(`
    do $$
    declare
      r record;
      n integer := 0;
    begin
      if (select d.datdba <> 'trollcity_owner'::regrole from pg_database d where d.datname = current_database()) then
        execute format('alter database %I owner to trollcity_owner', current_database());
      end if;
      create extension if not exists pgcrypto with schema public;
      -- Extension functions in public (pgcrypto's crypt, gen_salt, ...) are for the owner's SECURITY
      -- DEFINER functions only, never for the request roles directly.
      revoke execute on all functions in schema public from public;
      grant execute on all functions in schema public to trollcity_owner;
      for r in
        select format('alter schema %I owner to trollcity_owner', n.nspname) as stmt
          from pg_namespace n
         where n.nspname in ('app_public', 'app_hidden', 'app_private', 'graphile_worker', 'graphile_migrate')
           and n.nspowner <> 'trollcity_owner'::regrole
        union all
        select format('alter %s %I.%I owner to trollcity_owner',
                      case c.relkind when 'v' then 'view' when 'm' then 'materialized view' when 'S' then 'sequence' else 'table' end,
                      n.nspname, c.relname)
          from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname in ('app_public', 'app_hidden', 'app_private', 'graphile_worker', 'graphile_migrate')
           and c.relkind in ('r', 'p', 'v', 'm', 'S') and c.relowner <> 'trollcity_owner'::regrole
           -- a sequence a table owns follows its table
           and not (c.relkind = 'S' and exists (select 1 from pg_depend d
                     where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype in ('a', 'i')))
        union all
        select format('alter routine %s owner to trollcity_owner', p.oid::regprocedure)
          from pg_proc p join pg_namespace n on n.oid = p.pronamespace
         where n.nspname in ('app_public', 'app_hidden', 'app_private', 'graphile_worker', 'graphile_migrate')
           and p.proowner <> 'trollcity_owner'::regrole
        union all
        select format('alter %s %s owner to trollcity_owner', case t.typtype when 'd' then 'domain' else 'type' end, t.oid::regtype)
          from pg_type t join pg_namespace n on n.oid = t.typnamespace
         where n.nspname in ('app_public', 'app_hidden', 'app_private', 'graphile_worker', 'graphile_migrate')
           and t.typtype in ('c', 'e', 'd', 'r') and t.typowner <> 'trollcity_owner'::regrole
           and (t.typrelid = 0 or (select c.relkind from pg_class c where c.oid = t.typrelid) = 'c')
      loop
        execute r.stmt;
        n := n + 1;
      end loop;
      if n > 0 then
        raise notice 'trollcity: % objects given to trollcity_owner', n;
      end if;
    end
    $$`);
  log("ownership: app objects belong to trollcity_owner");
}

/**
 * Apply every committed migration not yet applied. Idempotent; takes graphile-migrate's lock. On a
 * superuser connection the migrations run as OWNER_ROLE (ensureOwnership first); on another login
 * they run as that login, which then owns the objects.
 */
export async function migrateDatabase(url: string, log: Log = () => {}): Promise<{ ownerUrl: string }> {
  const logger = new Logger(() => (level: string, message: string) => {
    if (level !== "debug") log(message);
  });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let superuser = false;
  try {
    superuser = await connectsAsSuperuser(client);
    if (superuser) await ensureOwnership(client, log);
    await restampLegacy(client, log);
  } finally {
    await client.end();
  }
  const ownerUrl = superuser ? asOwner(url) : url;
  try {
    await migrate({ connectionString: ownerUrl, migrationsFolder, logger });
  } finally {
    clearAllPools();
  }
  return { ownerUrl };
}

/** A working-migration file's SQL with its `--!include`s of db/src files inlined, as commit does. */
export async function compileMigrationFile(path: string): Promise<string> {
  return await compileIncludes({ migrationsFolder } as Parameters<typeof compileIncludes>[0], readFileSync(path, "utf8"), new Set([path]));
}

/** SQL files of the uncommitted working migration (db/migrations/current/). */
export function currentMigrationFiles(): string[] {
  try {
    return readdirSync(`${migrationsFolder}/current`).filter((f) => f.endsWith(".sql"));
  } catch {
    return [];
  }
}

/**
 * Apply the uncommitted working migration (tests and development only; never on start). Its files
 * are re-runnable by convention; they run in order in one transaction. `only` (prefixes like "100")
 * restricts which files run, so parallel work on separate files does not block each other.
 */
export async function applyCurrentMigration(url: string, log: Log = () => {}, only?: string[]): Promise<string[]> {
  const files = currentMigrationFiles()
    .filter((f) => !only?.length || only.some((p) => f.startsWith(p)))
    .sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
  if (!files.length) return files;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("begin");
    for (const f of files) {
      log(`applying current/${f}`);
      try {
        await client.query(await compileMigrationFile(`${migrationsFolder}/current/${f}`));
      } catch (e) {
        throw new Error(`db/migrations/current/${f}: ${(e as Error).message}`);
      }
    }
    await client.query("commit");
  } catch (e) {
    await client.query("rollback").catch(() => {});
    throw e;
  } finally {
    await client.end();
  }
  return files;
}

/** The hash of the newest committed migration (what `graphile_migrate.migrations` should end with). */
export function latestCommittedHash(): string | null {
  const dir = `${migrationsFolder}/committed`;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort();
  const last = files.at(-1);
  if (!last) return null;
  const header = readFileSync(`${dir}/${last}`, "utf8").match(/^--! Hash: (\S+)$/m);
  return header?.[1] ?? null;
}

/** Are all committed migrations applied to this database? */
export async function migrationsCurrent(client: pg.ClientBase): Promise<boolean> {
  const want = latestCommittedHash();
  const { rows } = await client.query<{ hash: string }>(
    "select hash from graphile_migrate.migrations order by date desc, filename desc limit 1",
  );
  return rows[0]?.hash === want;
}

export function sha1(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}
