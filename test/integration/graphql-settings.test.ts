// Role and JWT claims per request through PostGraphile with the one-trip adaptor
// (web/src/server/graphql/pg-adaptor.ts): the settings still apply (RLS, grants, identity), stay local to
// their transaction on a reused connection, a failed request rolls back, and a request with
// settings costs two writes to PostgreSQL instead of four.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withCredentials } from "../../core/database.ts";
import { makeOneTripWithPgClient } from "../../web/src/server/graphql/pg-adaptor.ts";
import { startTestApp, type TestApp } from "../support/app.ts";
import { createGiftWorld, type GiftWorld, tokenFor } from "../support/gifts.ts";
import { TEST_AUTHENTICATOR_PASSWORD } from "../support/testdb.ts";

let app: TestApp;
let owner: pg.Pool;
let world: GiftWorld;

beforeAll(async () => {
  // One authenticator connection: every request below reuses the same PostgreSQL session.
  app = await startTestApp({ DATABASE_POOL_SIZE: "1", RUN_WORKER: "false" });
  owner = new pg.Pool({ connectionString: app.db.url, max: 2 });
  world = await createGiftWorld(owner, { prefix: "ot", casters: 1, senderCoins: [100, 100, 3] });
  await owner.query("create extension if not exists pg_stat_statements");
});
afterAll(async () => {
  await owner?.end();
  await app?.stop();
});

const balance = async (userId: string) =>
  Number((await owner.query<{ balance: string }>("select balance from app_private.wallets where user_id = $1", [userId])).rows[0]?.balance);

const SEND = `mutation($s: UUID!, $g: UUID!, $q: Int) { sendGift(input: {streamId: $s, giftId: $g, quantity: $q}) { result { coins balance } } }`;

describe("through the server (one pooled connection)", () => {
  it("each request sees its own identity, never the previous request's", async () => {
    const [a, b] = world.senders;
    if (!a || !b) throw new Error("world");
    const me = async (token?: string) =>
      (await app.gql<{ currentUser: { username: string } | null }>("{ currentUser { username } }", {}, token)).data?.currentUser;
    const ta = await tokenFor(a.id);
    const tb = await tokenFor(b.id);
    for (let round = 0; round < 3; round++) {
      expect(await me(ta)).toEqual({ username: a.username });
      expect(await me()).toBeNull();
      expect(await me(tb)).toEqual({ username: b.username });
      expect(await me()).toBeNull();
    }
  });

  it("an anonymous sendGift is still refused, a signed-in one debits exactly its sender", async () => {
    const [a, b] = world.senders;
    const caster = world.casters[0];
    const gift = world.gifts.find((g) => g.price === 5);
    if (!a || !b || !caster || !gift) throw new Error("world");
    const anon = await app.gql(SEND, { s: caster.streamId, g: gift.id });
    expect(anon.data?.sendGift ?? null).toBeNull();
    // anon may not execute send_gift at all (42501): answered DENYD "not allowed", no schema names.
    expect(anon.errors?.[0]?.extensions?.code).toBe("DENYD");
    expect(anon.errors?.[0]?.message).toBe("not allowed");
    expect(await balance(a.id)).toBe(100);
    expect(await balance(b.id)).toBe(100);

    const ok = await app.gql<{ sendGift: { result: { coins: string; balance: string } } }>(
      SEND,
      { s: caster.streamId, g: gift.id, q: 2 },
      await tokenFor(a.id),
    );
    expect(ok.errors).toBeUndefined();
    expect(ok.data?.sendGift.result).toEqual({ coins: "10", balance: "90" });
    expect(await balance(a.id)).toBe(90);
    expect(await balance(b.id)).toBe(100);
  });

  it("a refused mutation rolls back and leaves the connection usable", async () => {
    const poor = world.senders[2];
    const caster = world.casters[0];
    const gift = world.gifts.find((g) => g.price === 25);
    if (!poor || !caster || !gift) throw new Error("world");
    const token = await tokenFor(poor.id);
    const refused = await app.gql(SEND, { s: caster.streamId, g: gift.id }, token);
    expect(refused.errors?.[0]?.extensions?.code).toBe("INSFD");
    expect(await balance(poor.id)).toBe(3);
    const me = await app.gql<{ currentUser: { username: string } }>("{ currentUser { username } }", {}, token);
    expect(me.data?.currentUser).toEqual({ username: poor.username });
  });

  it("the server sends the settings as a prepared statement, one per number of settings (not the stock adaptor's json_array_elements statement)", async () => {
    // pg_stat_statements files a statement under the role current at its end (anon/authenticated here).
    const { rows } = await owner.query<{ text: string }>(
      `select s.query as text from pg_stat_statements s
        where s.dbid = (select oid from pg_database where datname = current_database()) and s.query like '%set_config%'`,
    );
    // Parameters, not literals: the names and values are bound ($1, $2, ...), so each shape is parsed
    // and planned once per connection (pg_stat_statements also shows the constant `true` as a $n).
    const shapes = rows.map((r) => r.text).filter((t) => /^select set_config\(\$1, \$2, (true|\$\d+)\)/.test(t));
    expect(shapes.some((t) => /set_config\(\$3, \$4/.test(t))).toBe(true); // signed in: role and claims
    expect(rows.filter((r) => /set_config\('role'/.test(r.text))).toEqual([]); // no literal settings
    expect(rows.filter((r) => r.text.includes("json_array_elements"))).toEqual([]);
  });
});

describe("makeOneTripWithPgClient", () => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = new pg.Pool({
      connectionString: withCredentials(app.db.url, "authenticator", TEST_AUTHENTICATOR_PASSWORD),
      max: 1,
      pipeline: true,
    });
  });
  afterAll(async () => {
    await pool?.end();
  });
  const settings = (sub: string) => ({ role: "authenticated", "request.jwt.claims": JSON.stringify({ role: "authenticated", sub }) });
  const SEE = "select current_user as who, current_setting('request.jwt.claims', true) as claims, txid_current()::text as tx";

  it("runs the request's queries in one transaction with the role and claims, local to it", async () => {
    const withPgClient = makeOneTripWithPgClient(pool);
    const sub = world.senders[0]?.id ?? "";
    const seen = await withPgClient(settings(sub), async (client) => {
      const one = await client.query<{ who: string; claims: string; tx: string }>({ text: SEE });
      const two = await client.query<{ who: string; claims: string; tx: string }>({ text: SEE });
      return [one.rows[0], two.rows[0]];
    });
    expect(seen[0]?.who).toBe("authenticated");
    expect(JSON.parse(seen[0]?.claims ?? "{}")).toMatchObject({ sub });
    expect(seen[1]?.tx).toBe(seen[0]?.tx);
    // Same connection afterwards, outside that transaction: nothing left behind.
    const after = (await pool.query<{ who: string; claims: string | null }>(SEE)).rows[0];
    expect(after?.who).toBe("authenticator");
    expect(after?.claims ?? "").toBe("");
  });

  it("rolls back on error; a bad setting is reported as itself, not as an aborted transaction", async () => {
    const withPgClient = makeOneTripWithPgClient(pool);
    await expect(
      withPgClient(settings(world.senders[0]?.id ?? ""), async (client) => {
        await client.query({ text: "select 1/0" });
      }),
    ).rejects.toMatchObject({ code: "22012" });
    await expect(withPgClient({ role: "no_such_role" }, async (client) => await client.query({ text: "select 1" }))).rejects.toMatchObject({
      code: "22023",
    });
    expect((await pool.query<{ who: string }>("select current_user as who")).rows[0]?.who).toBe("authenticator");
  });

  it("sends the settings with the first query: two writes per request instead of four", async () => {
    const withPgClient = makeOneTripWithPgClient(pool);
    const client = await pool.connect();
    const socket = client.connection.stream as unknown as { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
    client.release();
    let writes = 0;
    const w = socket._write;
    const wv = socket._writev;
    socket._write = function (this: unknown, ...a: unknown[]) {
      writes++;
      return w.apply(this, a);
    };
    socket._writev = function (this: unknown, ...a: unknown[]) {
      writes++;
      return wv.apply(this, a);
    };
    try {
      await withPgClient(settings(world.senders[0]?.id ?? ""), async (c) => await c.query({ text: "select 1", values: [] }));
      writes = 0;
      const rows = await withPgClient(
        settings(world.senders[1]?.id ?? ""),
        async (c) => (await c.query<{ who: string }>({ text: SEE })).rows,
      );
      expect(rows[0]?.who).toBe("authenticated");
      expect(writes).toBe(2);
    } finally {
      socket._write = w;
      socket._writev = wv;
    }
  });
});
