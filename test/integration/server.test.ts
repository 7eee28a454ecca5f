// The real server process against its own database: health, readiness, JWT auth, error mapping.
import { SignJWT } from "jose";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, TEST_JWT_SECRET, type TestApp } from "../support/app.ts";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.stop();
});

const REGISTER = `mutation($u: String!, $e: String!, $p: String!) { register(input: {username: $u, email: $e, password: $p}) { result } }`;
const LOGIN = `mutation($u: String!, $p: String!) { login(input: {usernameOrEmail: $u, password: $p}) { result } }`;
const ME = `{ currentUser { username role } }`;

async function sign(claims: Record<string, unknown>, opts: { secret?: string; alg?: string; exp?: string | number } = {}) {
  return await new SignJWT(claims)
    .setProtectedHeader({ alg: opts.alg ?? "HS256" })
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? "5m")
    .sign(new TextEncoder().encode(opts.secret ?? TEST_JWT_SECRET));
}

describe("process endpoints", () => {
  it("/healthz answers while the process is up", async () => {
    const res = await fetch(`${app.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("/readyz is green once the worker has beaten", async () => {
    let body: Record<string, string> = {};
    for (let i = 0; i < 40; i++) {
      const res = await fetch(`${app.url}/readyz`);
      body = (await res.json()) as Record<string, string>;
      if (res.status === 200) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(body).toMatchObject({
      status: "ok",
      database: "ok",
      migrations: "ok",
      worker: "ok",
      settlement: "ok",
      relay: "ok",
      listen: "ok",
    });
  });

  it("/readyz is 503 while the relay loop makes no progress, naming it; 200 again once it does", async () => {
    // Hold the outbox: every relay tick waits for the lock, so no event is delivered.
    const blocker = new pg.Client({ connectionString: app.db.url });
    await blocker.connect();
    try {
      await blocker.query("begin");
      await blocker.query("lock table app_private.stream_events in access exclusive mode");
      let body: Record<string, string> = {};
      let status = 0;
      for (let i = 0; i < 60 && status !== 503; i++) {
        await new Promise((r) => setTimeout(r, 250));
        const res = await fetch(`${app.url}/readyz`);
        status = res.status;
        body = (await res.json()) as Record<string, string>;
      }
      expect(status).toBe(503);
      expect(body).toMatchObject({ status: "not ready", database: "ok" });
      expect(body.relay).toMatch(/^stalled \(no tick for \d+ s\)$/);
    } finally {
      await blocker.query("rollback");
      await blocker.end();
    }
    let status = 0;
    for (let i = 0; i < 40 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 250));
      status = (await fetch(`${app.url}/readyz`)).status;
    }
    expect(status).toBe(200);
  });

  it("/metrics serves Prometheus text", async () => {
    const res = await fetch(`${app.url}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("trollcity_process_cpu_seconds_total");
  });

  it("/metrics with METRICS_TOKEN needs the bearer token, and 50 scrapes collect once", async () => {
    const token = "metrics-token-0123456789abcdef";
    const guarded = await startTestApp({ METRICS_TOKEN: token });
    try {
      expect((await fetch(`${guarded.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${guarded.url}/metrics`, { headers: { authorization: "Bearer wrong-token-0123456789abcd" } })).status).toBe(401);
      const ok = await fetch(`${guarded.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      // Concurrent scrapes share one collection: the database sees one round of metric queries.
      const counter = async () => {
        const text = await (await fetch(`${guarded.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
        return text;
      };
      const bodies = await Promise.all(Array.from({ length: 50 }, counter));
      expect(new Set(bodies).size).toBe(1);
    } finally {
      await guarded.stop();
      await guarded.db.drop();
    }
  });
});

describe("auth", () => {
  it("register → token → currentUser, login by username", async () => {
    const reg = await app.gql<{ register: { result: string } }>(REGISTER, { u: "vitest_user", e: "v@example.com", p: "long enough" });
    expect(reg.errors).toBeUndefined();
    const token = reg.data?.register.result ?? "";
    const me = await app.gql(ME, {}, token);
    expect(me.data).toEqual({ currentUser: { username: "vitest_user", role: "viewer" } });
    const login = await app.gql<{ login: { result: string } }>(LOGIN, { u: "vitest_user", p: "long enough" });
    expect(login.data?.login.result).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it("maps our SQLSTATEs to GraphQL error codes", async () => {
    const bad = await app.gql(LOGIN, { u: "vitest_user", p: "wrong password" });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: "CREDS", httpStatus: 401 });
    const badIn = await app.gql(REGISTER, { u: "x", e: "x@example.com", p: "long enough" });
    expect(badIn.errors?.[0]?.extensions?.code).toBe("BADIN");
  });

  it("anonymous requests run as anon", async () => {
    const me = await app.gql(ME);
    expect(me.data).toEqual({ currentUser: null });
  });

  it("rejects tokens with another secret, algorithm, audience, or past expiry (401)", async () => {
    const sub = "00000000-0000-0000-0000-000000000001";
    const cases = [
      await sign({ sub, role: "authenticated", aud: "trollcity" }, { secret: "another-secret-another-secret-another-secret" }),
      await sign({ sub, role: "authenticated", aud: "trollcity" }, { alg: "HS512" }),
      await sign({ sub, role: "authenticated", aud: "someone-else" }),
      await sign({ sub, role: "authenticated", aud: "trollcity" }, { exp: Math.floor(Date.now() / 1000) - 60 }),
      await sign({ sub, role: "postgres", aud: "trollcity" }),
      "not.a.jwt",
    ];
    for (const token of cases) {
      const res = await app.gql(ME, {}, token);
      expect(res.status).toBe(401);
      expect(res.errors?.[0]?.extensions?.code).toBe("NOAUT");
    }
  });

  it("a valid token signed by us is accepted", async () => {
    const res = await app.gql(ME, {}, await sign({ sub: "00000000-0000-0000-0000-000000000001", role: "authenticated", aud: "trollcity" }));
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ currentUser: null });
  });
});
