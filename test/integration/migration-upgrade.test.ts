// Upgrading a live database across migration 9 (settlement queue) loses nothing: a database at
// migration 8 with settled, failed and pending gifts is migrated, and every gift keeps its status and
// batch, the audit stays clean, and the pending gifts settle afterwards.

import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { clusterUrl, dbUrl } from "../support/testdb.ts";

const dir = new URL("../../db/migrations/committed/", import.meta.url);
const files = readdirSync(dir)
  .filter((f) => /^\d{6}-.*\.sql$/.test(f))
  .sort();
const name = `upg_${randomBytes(5).toString("hex")}`;
let pool: pg.Pool;

async function apply(file: string) {
  const c = await pool.connect();
  try {
    await c.query("begin");
    await c.query(readFileSync(new URL(file, dir), "utf8"));
    await c.query("commit");
  } catch (e) {
    await c.query("rollback");
    throw e;
  } finally {
    c.release();
  }
}

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: clusterUrl() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  pool = new pg.Pool({ connectionString: dbUrl(clusterUrl(), name), max: 2 });
});
afterAll(async () => {
  await pool?.end();
  const admin = new pg.Client({ connectionString: clusterUrl() });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
});

it("moves pending, settled and failed gifts out of the ledger columns without losing one", async () => {
  const upTo8 = files.filter((f) => Number(f.slice(0, 6)) <= 8);
  const nine = files.find((f) => f.startsWith("000009-"));
  expect(upTo8).toHaveLength(8);
  expect(nine).toBeDefined();
  for (const f of upTo8) await apply(f);

  // The old schema: three casters, four senders, 60 gifts; a batch of 25, a banned caster, a batch of 20.
  await pool.query(`
    insert into app_public.users (username, display_name, role)
    select 'upcaster' || i, 'Caster ' || i, 'broadcaster' from generate_series(1, 3) i;
    insert into app_public.users (username, display_name) select 'upfan' || i, 'Fan ' || i from generate_series(1, 4) i;
    insert into app_public.streams (broadcaster_id, title) select id, 'up ' || username from app_public.users where username like 'upcaster%';
    insert into app_public.gifts (slug, name, coin_price, art_url) values ('up-rose', 'Rose', 3, '/r.svg');
    select app_private.issue_coins(id, 1000, 'grant', 'up-' || username) from app_public.users where username like 'upfan%';`);
  const { rows: fans } = await pool.query<{ id: string }>("select id from app_public.users where username like 'upfan%' order by username");
  const { rows: streams } = await pool.query<{ id: string }>("select id from app_public.streams where title like 'up %' order by title");
  for (let i = 0; i < 60; i++) {
    const c = await pool.connect();
    try {
      await c.query("begin");
      await c.query("select set_config('request.jwt.claims', $1, true)", [JSON.stringify({ sub: fans[i % 4]?.id })]);
      await c.query("select app_public.send_gift($1, (select id from app_public.gifts where slug = 'up-rose'), 1 + $2 % 3)", [
        streams[i % 3]?.id,
        i,
      ]);
      await c.query("commit");
    } finally {
      c.release();
    }
  }
  await pool.query("select app_private.process_gift_ledger_batch(25)");
  await pool.query("update app_public.users set is_banned = true where username = 'upcaster2'");
  await pool.query("select app_private.process_gift_ledger_batch(20)");
  await pool.query("update app_public.users set is_banned = false where username = 'upcaster2'");
  const before = await pool.query<{ id: string; status: string; batch_id: string | null }>(
    "select id::text, status, batch_id::text from app_private.gift_ledger order by id",
  );
  const count = (s: string) => before.rows.filter((r) => r.status === s).length;
  expect([count("settled"), count("failed"), count("pending")]).toEqual([25 + 13, 7, 15]);
  expect((await pool.query("select * from app_private.gift_audit()")).rows).toEqual([]);

  await apply(nine as string);

  const after = await pool.query<{ id: string; status: string; batch_id: string | null }>(
    "select id::text, status, batch_id::text from app_private.gift_ledger_status order by id",
  );
  expect(after.rows).toEqual(before.rows);
  expect(Number((await pool.query("select count(*) from app_private.gift_settlement_queue")).rows[0]?.count)).toBe(15);
  expect((await pool.query("select * from app_private.gift_audit()")).rows).toEqual([]);

  const { rows: last } = await pool.query<{ processed: number; settled: number }>(
    "select processed, settled from app_private.process_gift_ledger_batch()",
  );
  expect(last[0]).toEqual({ processed: 15, settled: 15 });
  expect((await pool.query("select * from app_private.gift_audit()")).rows).toEqual([]);
});
