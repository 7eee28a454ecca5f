// Sign-in throttle across connections (finding 1): a second sign-in for an account while one is in
// flight answers RATEL at once with retry_after (the per-account lock), and a window full of recorded
// failures answers RATEL with the seconds left, for the username and the e-mail alike.
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestApp } from "../support/app.ts";
import { createTestDatabase, type TestDatabase } from "../support/testdb.ts";

let db: TestDatabase;
const clients: pg.Client[] = [];

async function connect(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  clients.push(c);
  return c;
}

async function asAnon<T>(c: pg.Client, sql: string, params: unknown[]): Promise<T> {
  await c.query("begin");
  try {
    await c.query("set local role anon");
    const { rows } = await c.query(sql, params);
    await c.query("commit");
    return rows as T;
  } catch (e) {
    await c.query("rollback");
    throw e;
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  const c = await connect();
  await c.query("select app_public.register('throttled', 'throttled@example.com', 'correct horse battery')");
});

afterAll(async () => {
  for (const c of clients) await c.end();
  await db?.drop();
});

it("a sign-in while another for the same account is in flight gets RATEL with retry_after", async () => {
  const holder = await connect();
  const other = await connect();
  // Hold the account's lock the way a running sign-in does (same key as app_public.login).
  await holder.query("begin");
  await holder.query(
    "select pg_advisory_xact_lock(hashtextextended('app_public.login:' || app_private.login_account_key('throttled'), 0))",
  );
  const t0 = Date.now();
  const err = await asAnon(other, "select app_public.login($1, $2)", ["throttled@example.com", "correct horse battery"]).catch((e) => e);
  expect(Date.now() - t0).toBeLessThan(1000); // refused at once, no waiting on the lock
  expect(err).toMatchObject({ code: "RATEL" });
  expect(JSON.parse((err as { detail: string }).detail)).toEqual({ retry_after: 1 });
  await holder.query("rollback");
  const rows = await asAnon<{ login: string }[]>(other, "select app_public.login($1, $2) as login", ["throttled", "correct horse battery"]);
  expect(rows[0]?.login).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
});

it("five recorded failures lock the account (username and e-mail) with the seconds left", async () => {
  const c = await connect();
  for (let i = 0; i < 5; i++) await c.query("select app_private.record_login_failure($1)", [i % 2 ? "throttled" : "THROTTLED@example.com"]);
  for (const id of ["throttled", "throttled@example.com"]) {
    const err = await asAnon(c, "select app_public.login($1, $2)", [id, "correct horse battery"]).catch((e) => e);
    expect(err).toMatchObject({ code: "RATEL" });
    const retry = JSON.parse((err as { detail: string }).detail).retry_after as number;
    expect(retry).toBeGreaterThan(800);
    expect(retry).toBeLessThanOrEqual(900);
    expect((err as Error).message).toContain(`retry after ${retry} seconds`);
  }
});

it("through the API: five wrong passwords, then even the right one answers RATEL; unknown accounts alike", async () => {
  const app = await startTestApp();
  try {
    const LOGIN = `mutation ($u: String!, $p: String!) { login(input: { usernameOrEmail: $u, password: $p }) { result } }`;
    const reg = await app.gql(
      `mutation { register(input: { username: "locked_out", email: "locked@example.com", password: "correct horse battery" }) { result } }`,
    );
    expect(reg.errors).toBeUndefined();
    for (const user of ["locked_out", "nobody_here"]) {
      for (let i = 0; i < 5; i++) {
        const r = await app.gql(LOGIN, { u: user, p: `wrong-guess-${i}` });
        expect(r.errors?.[0]?.extensions?.code, `${user} attempt ${i + 1}`).toBe("CREDS");
      }
      const sixth = await app.gql(LOGIN, { u: user, p: "correct horse battery" });
      expect(sixth.errors?.[0]?.extensions?.code, user).toBe("RATEL");
      expect(sixth.errors?.[0]?.extensions).toHaveProperty("retry_after");
    }
  } finally {
    await app.stop();
    await app.db.drop();
  }
}, 60_000);
