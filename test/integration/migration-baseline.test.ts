// The twelve migrations of sessions 1-2 were squashed into 000001-baseline (same schema: db/schema.sql
// did not change). A database migrated by the old chain is re-stamped to the baseline on start and
// keeps its data; one stopped part-way through the old chain is refused with a clear message.
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { migrateDatabase } from "../../db/tools.ts";
import { clusterUrl, dbUrl } from "../support/testdb.ts";

const LEGACY: [string, string][] = [
  ["000001.sql", "sha1:2fb0121f8e40a36607980372f3245f5e6b497d7f"],
  ["000002.sql", "sha1:c641debcc5b33c2621ff7a46f25cc859c76f1f43"],
  ["000003.sql", "sha1:85ce0ca672fde3345ceaa26444f15a0edeef8659"],
  ["000004.sql", "sha1:09aa259819164346e6b2fbd59242a67d69945b12"],
  ["000005.sql", "sha1:64db58d9d1a5ef11e51aa6c2d634c5cd2342b373"],
  ["000006.sql", "sha1:3eb291606bac6c2ba600ad6e456919f95aa2fd06"],
  ["000007.sql", "sha1:ec95ea46f2b966b4423bb149f027818d216940c4"],
  ["000008.sql", "sha1:f51561dbb0724b0e30529fb3729c632eaa44daaa"],
  ["000009.sql", "sha1:67d7152912ebf55719f186f305df1ad09d41603c"],
  ["000010.sql", "sha1:cb49ae56f00525e65913ea962389b6c17fa02cd5"],
  ["000011.sql", "sha1:ea3701bf0e6d82f8900857a4aeaa7a62c148f308"],
  ["000012.sql", "sha1:f4936c63004493c09e00d5697d75b21296b68bb0"],
];

/** Every committed migration as graphile-migrate records it ("000001.sql", ...). */
const COMMITTED = readdirSync(new URL("../../db/migrations/committed/", import.meta.url))
  .filter((f) => /^\d{6}-.*\.sql$/.test(f))
  .sort()
  .map((f) => `${f.slice(0, 6)}.sql`);

const names: string[] = [];
async function freshDatabase(): Promise<string> {
  const name = `base_${randomBytes(5).toString("hex")}`;
  names.push(name);
  const admin = new pg.Client({ connectionString: clusterUrl() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  return dbUrl(clusterUrl(), name);
}

async function withClient<T>(url: string, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

/** Make a baseline database look like one migrated by the first `n` legacy migrations. */
async function pretendLegacy(url: string, n: number) {
  await withClient(url, async (c) => {
    await c.query("delete from graphile_migrate.migrations");
    let previous: string | null = null;
    for (const [filename, hash] of LEGACY.slice(0, n)) {
      await c.query("insert into graphile_migrate.migrations (hash, previous_hash, filename, date) values ($1, $2, $3, now())", [
        hash,
        previous,
        filename,
      ]);
      previous = hash;
    }
  });
}

const migrations = (url: string) =>
  withClient(url, async (c) =>
    (await c.query<{ filename: string }>("select filename from graphile_migrate.migrations order by filename")).rows.map((r) => r.filename),
  );

let base: string;
beforeAll(async () => {
  base = await freshDatabase();
  await migrateDatabase(base);
});
afterAll(async () => {
  await withClient(clusterUrl(), async (c) => {
    for (const n of names) await c.query(`drop database if exists ${n} with (force)`);
  });
});

it("a new database is migrated by the baseline and what came after it", async () => {
  expect(COMMITTED[0]).toBe("000001.sql");
  expect(await migrations(base)).toEqual(COMMITTED);
});

it("a database migrated by the twelve legacy migrations is re-stamped to the baseline and keeps its rows", async () => {
  const url = await freshDatabase();
  await migrateDatabase(url);
  await withClient(url, (c) => c.query("insert into app_private.settings (key, value) values ('legacy_marker', 'kept')"));
  await pretendLegacy(url, 12);
  const logs: string[] = [];
  await migrateDatabase(url, (m) => logs.push(m));
  // The baseline stands for the old chain; what came after it runs on top.
  expect(await migrations(url)).toEqual(COMMITTED);
  expect(logs.join("\n")).toMatch(/re-stamped the 12 pre-baseline migrations/);
  const kept = await withClient(url, (c) => c.query("select value from app_private.settings where key = 'legacy_marker'"));
  expect(kept.rows[0]?.value).toBe("kept");
  await migrateDatabase(url); // and again: nothing to do
  expect(await migrations(url)).toEqual(COMMITTED);
});

it("a database stopped part-way through the legacy chain is refused, naming where it stopped", async () => {
  const url = await freshDatabase();
  await migrateDatabase(url);
  await pretendLegacy(url, 8);
  await expect(migrateDatabase(url)).rejects.toThrow(/stopped at 000008\.sql \(8 migrations\).*ccaf4f9/);
  expect((await migrations(url)).length).toBe(8);
});

it("objects a superuser created earlier (before the owner role) are given to trollcity_owner on start", async () => {
  const url = await freshDatabase();
  await migrateDatabase(url);
  const owned = (sql: string) => withClient(url, async (c) => (await c.query<{ n: number }>(sql)).rows[0]?.n);
  const bySuperuser = `select count(*)::int as n from pg_class c join pg_namespace n on n.oid = c.relnamespace
     join pg_roles r on r.oid = c.relowner where n.nspname like 'app\\_%' and r.rolsuper`;
  expect(await owned(bySuperuser)).toBe(0);
  // As a database migrated before this version looks: everything the superuser's.
  await withClient(url, async (c) => {
    await c.query("alter table app_public.users owner to postgres");
    await c.query("alter function app_public.send_gift(uuid, uuid, integer, text) owner to postgres");
    await c.query("alter schema app_private owner to postgres");
  });
  expect(await owned(bySuperuser)).toBeGreaterThan(0);
  await migrateDatabase(url);
  expect(await owned(bySuperuser)).toBe(0);
  expect(
    await owned(`select count(*)::int as n from pg_proc p join pg_roles r on r.oid = p.proowner
       where p.pronamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace) and r.rolsuper`),
  ).toBe(0);
  expect(
    await owned("select (select nspowner from pg_namespace where nspname = 'app_private') = 'trollcity_owner'::regrole::oid as n"),
  ).toBe(true);
});
