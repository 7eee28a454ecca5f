// Hostile input against the running server, the way outsiders send it: forged tokens, money edge
// cases and races, other users' ids on every exposed mutation, text that lies. Every case asserts
// the documented error (docs/error_codes.md), that no answer is a 5xx, and at the end that the
// ledger audit is empty and no balance went negative (no partial write). docs/security.md lists
// the cases. GraphQL bombs: graphql-limits.test.ts; SSRF: playback.test.ts; sign-in: login-throttle.

import { SignJWT } from "jose";
import { AccessToken } from "livekit-server-sdk";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, TEST_JWT_SECRET, type TestApp } from "../support/app.ts";
import { auditViolations, createGiftWorld, type GiftWorld, tokenFor } from "../support/gifts.ts";

let app: TestApp;
let pool: pg.Pool;
let world: GiftWorld;
let alice = "";
let bob = "";
let caster = "";
let caster2 = "";
const statuses: number[] = [];

const secret = new TextEncoder().encode(TEST_JWT_SECRET);

beforeAll(async () => {
  app = await startTestApp();
  pool = new pg.Pool({ connectionString: app.db.url, max: 4 });
  world = await createGiftWorld(pool, { prefix: "hx", casters: 2, senderCoins: [100, 5] });
  alice = await tokenFor(world.senders[0]?.id ?? "");
  bob = await tokenFor(world.senders[1]?.id ?? "");
  caster = await tokenFor(world.casters[0]?.id ?? "");
  caster2 = await tokenFor(world.casters[1]?.id ?? "");
}, 60_000);
afterAll(async () => {
  await pool?.end();
  await app?.stop();
  await app?.db.drop();
});

interface Answer {
  status: number;
  code: string | undefined;
  message: string;
  data: Record<string, unknown> | null;
}

/** POST a GraphQL request with a raw Authorization header (or none); record the HTTP status. */
async function send(query: string, variables: Record<string, unknown> = {}, authorization?: string): Promise<Answer> {
  const res = await fetch(`${app.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json", ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  statuses.push(res.status);
  const body = (await res.json().catch(() => ({}))) as {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  return {
    status: res.status,
    code: body.errors?.[0]?.extensions?.code,
    message: body.errors?.map((e) => e.message).join(" | ") ?? "",
    data: body.data ?? null,
  };
}
const as = (token: string) => `Bearer ${token}`;

const ME = "{ currentUser { rowId } }";
const SEND = `mutation($s: UUID!, $g: UUID!, $q: Int, $k: String) {
  sendGift(input: {streamId: $s, giftId: $g, quantity: $q, idempotencyKey: $k}) { result { giftLedgerId coins balance replayed } } }`;

function jwt(claims: Record<string, unknown>, opts: { alg?: string; key?: Uint8Array; exp?: string | number; nbf?: string | number } = {}) {
  const j = new SignJWT(claims).setProtectedHeader({ alg: opts.alg ?? "HS256" }).setIssuedAt();
  if (opts.exp !== undefined) j.setExpirationTime(opts.exp);
  else j.setExpirationTime("10m");
  if (opts.nbf !== undefined) j.setNotBefore(opts.nbf);
  return j.sign(opts.key ?? secret);
}

describe("auth: forged and wrong tokens are refused (401 NOAUT), never run as anyone", () => {
  const sub = () => world.senders[0]?.id ?? "";
  const cases: [string, () => Promise<string>][] = [
    [
      "alg none",
      async () => {
        const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
        const exp = Math.floor(Date.now() / 1000) + 600;
        return `Bearer ${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: sub(), role: "authenticated", aud: "trollcity", exp })}.`;
      },
    ],
    [
      "another secret",
      async () => as(await jwt({ sub: sub(), role: "authenticated", aud: "trollcity" }, { key: new TextEncoder().encode("x".repeat(40)) })),
    ],
    ["HS512 with the right secret", async () => as(await jwt({ sub: sub(), role: "authenticated", aud: "trollcity" }, { alg: "HS512" }))],
    [
      "a LiveKit access token",
      async () => {
        const t = new AccessToken("devkey", "s".repeat(40), { identity: sub(), ttl: 600 });
        t.addGrant({ room: "x", roomJoin: true });
        return as(await t.toJwt());
      },
    ],
    ["no aud", async () => as(await jwt({ sub: sub(), role: "authenticated" }))],
    ["another aud", async () => as(await jwt({ sub: sub(), role: "authenticated", aud: "someone-else" }))],
    [
      "expired",
      async () => as(await jwt({ sub: sub(), role: "authenticated", aud: "trollcity" }, { exp: Math.floor(Date.now() / 1000) - 60 })),
    ],
    ["not yet valid (nbf)", async () => as(await jwt({ sub: sub(), role: "authenticated", aud: "trollcity" }, { nbf: "1h" }))],
    ["role postgres", async () => as(await jwt({ sub: sub(), role: "postgres", aud: "trollcity" }))],
    ["role trollcity_owner", async () => as(await jwt({ sub: sub(), role: "trollcity_owner", aud: "trollcity" }))],
    ["role service_role", async () => as(await jwt({ sub: sub(), role: "service_role", aud: "trollcity" }))],
    [
      "no exp",
      async () =>
        as(await new SignJWT({ sub: sub(), role: "authenticated", aud: "trollcity" }).setProtectedHeader({ alg: "HS256" }).sign(secret)),
    ],
    ["not a Bearer header", async () => `Token ${await tokenFor(sub())}`],
    ["a 100 KB token", async () => `Bearer ${"a".repeat(100_000)}.b.c`],
  ];
  for (const [name, make] of cases) {
    it(name, async () => {
      const r = await send(ME, {}, await make());
      if (name === "a 100 KB token") {
        // Node refuses headers that large before anything reads them.
        expect(r.status).toBe(431);
        return;
      }
      expect(r.status, r.message).toBe(401);
      expect(r.code).toBe("NOAUT");
      expect(r.data?.currentUser ?? null).toBeNull();
    });
  }

  it("a token whose sub is not a user id is refused as input, not a crash", async () => {
    const r = await send(ME, {}, as(await jwt({ sub: "not-a-uuid", role: "authenticated", aud: "trollcity" })));
    expect(r.status).toBeLessThan(500);
    expect(r.code).toBe("BADIN");
  });
});

describe("money: amounts, prices, self-gifts, ended streams, idempotency and races", () => {
  const stream = () => world.casters[0]?.streamId ?? "";
  const gift = (price: number) => world.gifts.find((g) => g.price === price)?.id ?? "";
  const balance = async (i: number) =>
    Number((await pool.query("select balance from app_private.wallets where user_id = $1", [world.senders[i]?.id])).rows[0]?.balance ?? 0);

  for (const [name, q, code] of [
    ["quantity 0", 0, "BADIN"],
    ["negative quantity", -5, "BADIN"],
    ["a billion of them", 1_000_000_000, "BADIN"],
  ] as const) {
    it(`${name}: ${code}, nothing debited`, async () => {
      const before = await balance(0);
      const r = await send(SEND, { s: stream(), g: gift(1), q }, as(alice));
      expect(r.code).toBe(code);
      expect(await balance(0)).toBe(before);
    });
  }

  it("a fractional quantity is refused by the schema", async () => {
    const r = await send(SEND, { s: stream(), g: gift(1), q: 1.5 }, as(alice));
    expect(r.status).toBeLessThan(500);
    expect(r.data?.sendGift ?? null).toBeNull();
  });

  it("a price from the client is not even a field (the catalogue's price is charged)", async () => {
    const r = await send(
      `mutation($s: UUID!, $g: UUID!) { sendGift(input: {streamId: $s, giftId: $g, coins: 0}) { result { coins } } }`,
      { s: stream(), g: gift(25) },
      as(alice),
    );
    expect(r.status).toBeLessThan(500);
    expect(r.message).toMatch(/coins/);
    expect(r.data?.sendGift ?? null).toBeNull();
  });

  it("an unknown gift: NOFND", async () => {
    expect((await send(SEND, { s: stream(), g: "00000000-0000-4000-8000-000000000001" }, as(alice))).code).toBe("NOFND");
  });

  it("an unknown stream: NOFND", async () => {
    expect((await send(SEND, { s: "00000000-0000-4000-8000-000000000002", g: gift(1) }, as(alice))).code).toBe("NOFND");
  });

  it("a gift to one's own stream: DENYD", async () => {
    await pool.query("select app_private.issue_coins($1, 10, 'grant', 'hx-self')", [world.casters[0]?.id]);
    expect((await send(SEND, { s: stream(), g: gift(1) }, as(caster))).code).toBe("DENYD");
  });

  it("a gift to an ended stream: NLIVE", async () => {
    const ended = await pool.query<{ id: string }>(
      "insert into app_public.streams (broadcaster_id, title, status, ended_at) values ($1, 'over', 'ended', now()) returning id",
      [world.casters[1]?.id],
    );
    expect((await send(SEND, { s: ended.rows[0]?.id, g: gift(1) }, as(alice))).code).toBe("NLIVE");
  });

  it("more than the balance: INSFD at once, nothing debited", async () => {
    const before = await balance(1);
    expect((await send(SEND, { s: stream(), g: gift(25) }, as(bob))).code).toBe("INSFD");
    expect(await balance(1)).toBe(before);
  });

  it("an idempotency replay answers the original receipt and debits once; other arguments: IDEMP", async () => {
    const before = await balance(0);
    const a = await send(SEND, { s: stream(), g: gift(5), q: 1, k: "hx-once" }, as(alice));
    const b = await send(SEND, { s: stream(), g: gift(5), q: 1, k: "hx-once" }, as(alice));
    type Receipt = { result: { giftLedgerId: string; replayed: boolean } } | undefined;
    const ra = (a.data?.sendGift as Receipt)?.result;
    const rb = (b.data?.sendGift as Receipt)?.result;
    expect(rb?.giftLedgerId).toBe(ra?.giftLedgerId);
    expect(rb?.replayed).toBe(true);
    expect(await balance(0)).toBe(before - 5);
    expect((await send(SEND, { s: stream(), g: gift(5), q: 2, k: "hx-once" }, as(alice))).code).toBe("IDEMP");
    expect((await send(SEND, { s: stream(), g: gift(5), q: 1, k: "k".repeat(201) }, as(alice))).code).toBe("BADIN");
  });

  it("a double-spend race: 20 concurrent 5-coin gifts on a 5-coin balance, exactly one accepted", async () => {
    expect(await balance(1)).toBe(5);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => send(SEND, { s: stream(), g: gift(5), k: `hx-race-${i}` }, as(bob))),
    );
    expect(answers.filter((r) => r.data?.sendGift).length).toBe(1);
    expect(answers.filter((r) => r.code === "INSFD").length).toBe(19);
    expect(await balance(1)).toBe(0);
  });

  it("anonymous gifts and coin grants by non-admins are refused", async () => {
    expect((await send(SEND, { s: stream(), g: gift(1) })).code).toBe("DENYD");
    const grant = `mutation($u: UUID!) { grantCoins(input: {userId: $u, coins: 1000000, reason: "free money"}) { clientMutationId } }`;
    expect((await send(grant, { u: world.senders[0]?.id }, as(alice))).code).toBe("DENYD");
  });
});

describe("IDOR: other users' ids on every exposed mutation", () => {
  const other = () => world.senders[1]?.id ?? "";
  const myStream = () => world.casters[0]?.streamId ?? "";

  it("updateUserByRowId on another user changes nothing", async () => {
    const r = await send(
      `mutation($id: UUID!) { updateUserByRowId(input: {rowId: $id, userPatch: {displayName: "pwned"}}) { user { displayName } } }`,
      { id: other() },
      as(alice),
    );
    expect(r.status).toBeLessThan(500);
    // RLS hides the row: nothing is updated and nothing comes back.
    expect((r.data?.updateUserByRowId as { user: unknown } | null)?.user ?? null).toBeNull();
    const { rows } = await pool.query("select display_name from app_public.users where id = $1", [other()]);
    expect(rows[0]?.display_name).not.toBe("pwned");
  });

  it("updateUser through another user's node id changes nothing", async () => {
    const node = await send(`query($id: UUID!) { userByRowId(rowId: $id) { id } }`, { id: other() }, as(alice));
    const nodeId = (node.data?.userByRowId as { id: string } | undefined)?.id;
    expect(nodeId).toBeTruthy();
    const r = await send(
      `mutation($id: ID!) { updateUser(input: {id: $id, userPatch: {displayName: "pwned"}}) { user { displayName } } }`,
      { id: nodeId },
      as(alice),
    );
    expect((r.data?.updateUser as { user: unknown } | null)?.user ?? null).toBeNull();
    const { rows } = await pool.query("select display_name from app_public.users where id = $1", [other()]);
    expect(rows[0]?.display_name).not.toBe("pwned");
  });

  it("one's own role and ban flag are not in the patch at all", async () => {
    const r = await send(
      `mutation($id: UUID!) { updateUserByRowId(input: {rowId: $id, userPatch: {role: admin, isBanned: false}}) { user { role } } }`,
      { id: world.senders[0]?.id },
      as(alice),
    );
    expect(r.status).toBeLessThan(500);
    expect(r.data?.updateUserByRowId ?? null).toBeNull();
    const { rows } = await pool.query("select role from app_public.users where id = $1", [world.senders[0]?.id]);
    expect(rows[0]?.role).toBe("viewer");
  });

  it("anonymous profile edits: DENYD", async () => {
    const r = await send(
      `mutation($id: UUID!) { updateUserByRowId(input: {rowId: $id, userPatch: {displayName: "x"}}) { clientMutationId } }`,
      {
        id: other(),
      },
    );
    expect(r.code).toBe("DENYD");
  });

  for (const [name, query, vars] of [
    [
      "endStream of another broadcaster's stream",
      `mutation($s: UUID!) { endStream(input: {streamId: $s}) { clientMutationId } }`,
      () => ({ s: myStream() }),
    ],
    [
      "setSlowMode on another's stream",
      `mutation($s: UUID!) { setSlowMode(input: {streamId: $s, seconds: 60}) { clientMutationId } }`,
      () => ({ s: myStream() }),
    ],
    [
      "setSeatCap on another's stream",
      `mutation($s: UUID!) { setSeatCap(input: {streamId: $s, seatCap: 12}) { clientMutationId } }`,
      () => ({ s: myStream() }),
    ],
    [
      "inviteToSeat on another's stream",
      `mutation($s: UUID!, $u: UUID!) { inviteToSeat(input: {streamId: $s, userId: $u}) { clientMutationId } }`,
      () => ({ s: myStream(), u: world.senders[0]?.id }),
    ],
    [
      "configureStreamPlayback on another's stream",
      `mutation($s: UUID!) { configureStreamPlayback(input: {streamId: $s, hlsProvider: "origin"}) { clientMutationId } }`,
      () => ({ s: myStream() }),
    ],
    [
      "requestViralMode on another's stream",
      `mutation($s: UUID!) { requestViralMode(input: {streamId: $s, mode: "hls"}) { clientMutationId } }`,
      () => ({ s: myStream() }),
    ],
    [
      "muteUser in another's stream",
      `mutation($s: UUID!, $u: UUID!) { muteUser(input: {streamId: $s, userId: $u, durationSeconds: 600}) { clientMutationId } }`,
      () => ({ s: myStream(), u: world.senders[0]?.id }),
    ],
    [
      "banUser in another's stream",
      `mutation($s: UUID!, $u: UUID!) { banUser(input: {streamId: $s, userId: $u}) { clientMutationId } }`,
      () => ({ s: myStream(), u: world.senders[0]?.id }),
    ],
    [
      "setUserRole by a broadcaster",
      `mutation($u: UUID!) { setUserRole(input: {userId: $u, role: admin}) { clientMutationId } }`,
      () => ({ u: world.casters[1]?.id }),
    ],
  ] as const) {
    it(`${name}: DENYD (as another broadcaster)`, async () => {
      const r = await send(query, vars(), as(caster2));
      expect(r.status).toBeLessThan(500);
      expect(r.code, r.message).toBe("DENYD");
    });
  }

  it("another user's spending is not readable, anonymously or as someone else", async () => {
    await pool
      .query(
        "insert into app_public.stream_gifter_stats (stream_id, gifter_id, coins, gift_count) values ($1, $2, 77, 1) on conflict do nothing",
        [myStream(), world.senders[0]?.id],
      )
      .catch(() => {});
    const q = `{ allStreamGifterStats(first: 100) { nodes { gifterId coins } } }`;
    for (const auth of [undefined, as(bob)]) {
      const r = await send(q, {}, auth);
      const nodes = ((r.data?.allStreamGifterStats as { nodes: { gifterId: string }[] } | undefined)?.nodes ?? []).filter(
        (n) => n.gifterId === world.senders[0]?.id,
      );
      expect(nodes).toEqual([]);
    }
  });
});

describe("text that lies is refused (BADIN)", () => {
  it("a stream title with a right-to-left override", async () => {
    const r = await send(`mutation { goLive(input: {title: "free \u202Ecoins"}) { clientMutationId } }`, {}, as(caster2));
    expect(r.code).toBe("BADIN");
  });

  it("a chat message with a line separator, a tag character, an Arabic letter mark", async () => {
    for (const ch of ["\u2028", "\u{E0041}", "\u061C", "\u2060", "\u00AD"]) {
      const r = await send(
        `mutation($s: UUID!, $b: String!) { sendChatMessage(input: {streamId: $s, body: $b}) { clientMutationId } }`,
        { s: world.casters[0]?.streamId, b: `hi${ch}there` },
        as(alice),
      );
      expect(r.code, `U+${ch.codePointAt(0)?.toString(16)}`).toBe("BADIN");
    }
  });

  it("a display name with a zero-width space or a newline", async () => {
    for (const name of ["ad\u200Bmin", "two\nlines"]) {
      const r = await send(
        `mutation($id: UUID!, $n: String!) { updateUserByRowId(input: {rowId: $id, userPatch: {displayName: $n}}) { clientMutationId } }`,
        { id: world.senders[0]?.id, n: name },
        as(alice),
      );
      expect(r.code, JSON.stringify(name)).toBe("BADIN");
    }
  });
});

describe("afterwards", () => {
  it("no answer was a 5xx, the ledger audit is empty and no balance is negative", async () => {
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(await auditViolations(pool)).toEqual([]);
    const { rows } = await pool.query("select count(*)::int as n from app_private.wallets where balance < 0");
    expect(rows[0]?.n).toBe(0);
  });
});
