// plpgsql_check on every PL/pgSQL function of the three app schemas (trigger functions against each
// table they are attached to, with its transition tables): no errors. The extension is created in this test's own database only.
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/testdb.ts";

let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query("create extension if not exists plpgsql_check");
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

interface Issue {
  fn: string;
  relid: string | null;
  level: string;
  message: string;
  lineno: number | null;
}

it("plpgsql_check finds no errors in any app function", async () => {
  const { rows: counted } = await client.query<{ n: number }>(`
    select count(*)::int as n from pg_proc p join pg_language l on l.oid = p.prolang
     where l.lanname = 'plpgsql' and p.pronamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace)`);
  expect(counted[0]?.n).toBeGreaterThan(50);
  const { rows } = await client.query<Issue>(`
    with fns as (
      select p.oid, 0::oid as relid, null::name as oldtable, null::name as newtable
        from pg_proc p join pg_language l on l.oid = p.prolang
       where l.lanname = 'plpgsql' and p.prorettype <> 'trigger'::regtype
         and p.pronamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace)
      union
      select t.tgfoid, t.tgrelid, t.tgoldtable, t.tgnewtable
        from pg_trigger t join pg_proc p on p.oid = t.tgfoid
       where not t.tgisinternal
         and p.pronamespace in ('app_public'::regnamespace, 'app_hidden'::regnamespace, 'app_private'::regnamespace)
    )
    select f.oid::regprocedure::text as fn, nullif(f.relid, 0)::regclass::text as relid, c.level, c.message, c.lineno
      from fns f
      cross join lateral plpgsql_check_function_tb(f.oid, f.relid, extra_warnings => true, security_warnings => true,
                                                  oldtable => f.oldtable, newtable => f.newtable) c
     order by 1, 2, c.lineno`);
  const errors = rows.filter((r) => r.level === "error");
  const warnings = rows.filter((r) => r.level !== "error");
  if (warnings.length)
    console.log(`plpgsql_check: ${warnings.length} warnings\n${warnings.map((w) => `  ${w.fn}: ${w.message}`).join("\n")}`);
  expect(errors.map((e) => `${e.fn}${e.relid ? ` on ${e.relid}` : ""} line ${e.lineno}: ${e.message}`)).toEqual([]);
});
