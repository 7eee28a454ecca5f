// Hostile GraphQL against the running server: what one request may ask for is bounded before
// anything is planned (docs/security.md, finding 2 and the one-request brute force of finding 1).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app.ts";

let app: TestApp;
let prod: TestApp;

beforeAll(async () => {
  [app, prod] = await Promise.all([
    startTestApp(),
    // As `npm start` runs it: GRAPHILE_ENV=production, no GRAPHQL_INTROSPECTION.
    startTestApp({ GRAPHILE_ENV: "production" }),
  ]);
}, 90_000);
afterAll(async () => {
  await Promise.all([app?.stop(), prod?.stop()]);
  await Promise.all([app?.db.drop(), prod?.db.drop()]);
});

/** A Stream → broadcaster → their seats → the seat's stream → ... chain `levels` deep. */
function nested(levels: number): string {
  let inner = "rowId";
  for (let i = 0; i < levels; i++)
    inner = i % 2 === 0 ? `userByBroadcasterId { rowId streamSeatsByUserId(first: 1) { nodes { streamByStreamId { ${inner} } } } }` : inner;
  return `{ allStreams(first: 1) { nodes { ${inner} } } }`;
}

const codes = (r: { errors?: { message: string; extensions?: { code?: string } }[] }) => (r.errors ?? []).map((e) => e.message).join(" | ");

describe("GraphQL request limits", () => {
  it("refuses 300 aliased login fields in one request without checking any password", async () => {
    const fields = Array.from(
      { length: 300 },
      (_, i) => `l${i}: login(input: { usernameOrEmail: "alice", password: "guess${i}" }) { result }`,
    );
    const r = await app.gql<Record<string, unknown>>(`mutation { ${fields.join(" ")} }`);
    expect(r.data ?? null).toBeNull();
    expect(codes(r)).toMatch(/at most one login or register per request/);
    expect(codes(r)).toMatch(/Aliases limit of 15 exceeded/);
  });

  it("refuses two password checks even without aliases abuse (login + register)", async () => {
    const r = await app.gql(
      `mutation { a: login(input: { usernameOrEmail: "alice", password: "x" }) { result } b: register(input: { username: "zz_new", email: "zz@example.com", password: "correct horse battery" }) { result } }`,
    );
    expect(r.data ?? null).toBeNull();
    expect(codes(r)).toMatch(/at most one login or register per request/);
  });

  it("refuses a 26-level nested query for anonymous callers", async () => {
    const r = await app.gql(nested(26));
    expect(r.data ?? null).toBeNull();
    expect(codes(r)).toMatch(/depth/i);
  });

  it("refuses 200 aliased list fields", async () => {
    const fields = Array.from({ length: 200 }, (_, i) => `s${i}: allUsers(first: 100) { nodes { rowId username } }`);
    const r = await app.gql(`{ ${fields.join(" ")} }`);
    expect(r.data ?? null).toBeNull();
    expect(codes(r)).toMatch(/Aliases limit of 15 exceeded/);
    expect(codes(r)).toMatch(/Query Cost limit of 5000 exceeded/);
  });

  it("caps first/last at 100, as a literal and through a variable", async () => {
    const lit = await app.gql(`{ allUsers(first: 1000) { nodes { rowId } } }`);
    expect(lit.data ?? null).toBeNull();
    expect(codes(lit)).toMatch(/first may be at most 100/);
    const viaVar = await app.gql(`query ($n: Int) { allUsers(first: $n) { nodes { rowId } } }`, { n: 5000 });
    expect(viaVar.data ?? null).toBeNull();
    expect(codes(viaVar)).toMatch(/first may be at most 100/);
    const ok = await app.gql(`query ($n: Int) { allUsers(first: $n) { nodes { rowId } } }`, { n: 100 });
    expect(ok.errors).toBeUndefined();
  });

  it("refuses an oversized document before parsing it", async () => {
    const res = await fetch(`${app.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ query: `{ __typename ${" ".repeat(80_000)} }` }),
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  it("in production: no introspection and no 'Did you mean' suggestions", async () => {
    const intro = await prod.gql(`{ __schema { types { name } } }`);
    expect(intro.data ?? null).toBeNull();
    expect(codes(intro)).toMatch(/introspection/i);
    const typo = await prod.gql(`{ allUser { nodes { rowId } } }`);
    expect(codes(typo)).toMatch(/Cannot query field "allUser"/);
    expect(codes(typo)).not.toMatch(/Did you mean/);
    // In development both stay on.
    const devTypo = await app.gql(`{ allUser { nodes { rowId } } }`);
    expect(codes(devTypo)).toMatch(/Did you mean/);
  });

  it("a privilege error says 'not allowed' without naming internal schemas", async () => {
    // anon has no UPDATE on users: PostgreSQL answers 42501 "permission denied for table users".
    const r = await app.gql(
      `mutation { updateUserByRowId(input: { rowId: "00000000-0000-4000-8000-000000000000", userPatch: { displayName: "x" } }) { clientMutationId } }`,
    );
    expect(r.errors?.[0]?.extensions?.code).toBe("DENYD");
    expect(r.errors?.[0]?.message).toBe("not allowed");
  });
});
