// The gift economy through the real server: GraphQL (sendGift, myWallet, leaderboard, topGifters,
// giftBatchLogs), settlement by the in-process worker loop, Prometheus metrics, the payment webhook.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_GIFTS, demoSeedBalance, seedDemo } from "../../db/seed.ts";
import { signPayload, WEBHOOK_PATH } from "../../web/src/server/features/payments.ts";
import { startTestApp, type TestApp } from "../support/app.ts";
import { auditViolations, createGiftWorld, type GiftWorld, tokenFor, waitFor } from "../support/gifts.ts";

const WEBHOOK_SECRET = "whsec-test-0123456789abcdef0123456789abcdef";

let app: TestApp;
let pool: pg.Pool;
let world: GiftWorld;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  app = await startTestApp({ PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET });
  pool = new pg.Pool({ connectionString: app.db.url, max: 4 });
  world = await createGiftWorld(pool, { prefix: "gq", casters: 2, senderCoins: [100, 3] });
  for (const s of world.senders) tokens[s.username] = await tokenFor(s.id);
  tokens.admin = await tokenFor(world.adminId);
});
afterAll(async () => {
  await pool?.end();
  await app?.stop();
});

const SEND = `mutation($s: UUID!, $g: UUID!, $q: Int, $k: String) {
  sendGift(input: {streamId: $s, giftId: $g, quantity: $q, idempotencyKey: $k}) {
    result { giftLedgerId coins balance status replayed }
  }
}`;
type SendData = { sendGift: { result: { giftLedgerId: string; coins: string; balance: string; status: string; replayed: boolean } } };

describe("GraphQL", () => {
  it("lists the catalogue to anyone", async () => {
    const res = await app.gql<{ allGifts: { nodes: { slug: string; coinPrice: number }[] } }>(`{ allGifts { nodes { slug coinPrice } } }`);
    expect(JSON.stringify(res.errors)).toBe(undefined);
    expect(res.data?.allGifts.nodes.map((n) => n.coinPrice).sort((a, b) => a - b)).toEqual([1, 5, 25]);
  });

  it("sendGift: accepted, priced from the catalogue, debited at once; replays and errors by code", async () => {
    const [alice, bob] = world.senders;
    const [caster] = world.casters;
    const crown = world.gifts[2];
    if (!alice || !bob || !caster || !crown) throw new Error("world");
    const ok = await app.gql<SendData>(SEND, { s: caster.streamId, g: crown.id, q: 2, k: "gq-1" }, tokens[alice.username]);
    expect(JSON.stringify(ok.errors)).toBe(undefined);
    expect(ok.data?.sendGift.result).toMatchObject({ coins: "50", balance: "50", status: "pending", replayed: false });

    const replay = await app.gql<SendData>(SEND, { s: caster.streamId, g: crown.id, q: 2, k: "gq-1" }, tokens[alice.username]);
    expect(replay.data?.sendGift.result).toMatchObject({
      giftLedgerId: ok.data?.sendGift.result.giftLedgerId,
      replayed: true,
      balance: "50",
    });

    const idemp = await app.gql(SEND, { s: caster.streamId, g: crown.id, q: 1, k: "gq-1" }, tokens[alice.username]);
    expect(idemp.errors?.[0]?.extensions).toMatchObject({ code: "IDEMP", httpStatus: 409 });
    const insfd = await app.gql(SEND, { s: caster.streamId, g: crown.id, q: 1 }, tokens[bob.username]);
    expect(insfd.errors?.[0]?.extensions).toMatchObject({ code: "INSFD", httpStatus: 402 });
    expect(insfd.errors?.[0]?.message).toContain("insufficient funds");
    const badin = await app.gql(SEND, { s: caster.streamId, g: crown.id, q: 0 }, tokens[alice.username]);
    expect(badin.errors?.[0]?.extensions?.code).toBe("BADIN");
    const anon = await app.gql(SEND, { s: caster.streamId, g: crown.id, q: 1 });
    expect(anon.errors?.[0]?.extensions?.code).toBe("DENYD");

    const wallet = await app.gql<{ myWallet: { balance: string } }>(`{ myWallet { balance } }`, {}, tokens[alice.username]);
    expect(wallet.data?.myWallet.balance).toBe("50");
  });

  it("the worker settles within one cadence: leaderboard, topGifters, the receiver's wallet", async () => {
    const [alice] = world.senders;
    const [caster] = world.casters;
    if (!alice || !caster) throw new Error("world");
    type Board = { leaderboard: { rank: number; username: string; coins: string }[] };
    const board = await waitFor(
      "the leaderboard to show the settled gift",
      async () => {
        const res = await app.gql<Board>(`{ leaderboard(period: "day", limit: 10) { rank username coins } }`);
        expect(JSON.stringify(res.errors)).toBe(undefined);
        return res.data?.leaderboard.length ? res.data.leaderboard : null;
      },
      15_000,
    );
    expect(board).toEqual([{ rank: 1, username: caster.username, coins: "50" }]);
    const top = await app.gql<{ topGifters: { username: string; coins: string }[] }>(
      `query($s: UUID!) { topGifters(streamId: $s, limit: 5) { username coins } }`,
      { s: caster.streamId },
    );
    expect(top.data?.topGifters).toEqual([{ username: alice.username, coins: "50" }]);
    const casterWallet = await app.gql<{ myWallet: { balance: string } }>(`{ myWallet { balance } }`, {}, await tokenFor(caster.id));
    expect(casterWallet.data?.myWallet.balance).toBe("40");
    const bad = await app.gql(`{ leaderboard(period: "decade", limit: 10) { rank } }`);
    expect(bad.errors?.[0]?.extensions?.code).toBe("BADIN");
  });

  it("giftBatchLogs: admins only", async () => {
    type Logs = { giftBatchLogs: { processed: number; settled: number; backlogCount: string }[] };
    const admin = await app.gql<Logs>(`{ giftBatchLogs(limit: 50) { processed settled backlogCount } }`, {}, tokens.admin);
    expect(JSON.stringify(admin.errors)).toBe(undefined);
    expect(admin.data?.giftBatchLogs.length).toBeGreaterThan(0);
    expect(admin.data?.giftBatchLogs.reduce((n, l) => n + l.settled, 0)).toBe(1);
    const [alice] = world.senders;
    const viewer = await app.gql(`{ giftBatchLogs(limit: 5) { processed } }`, {}, tokens[alice?.username ?? ""]);
    expect(viewer.errors?.[0]?.extensions?.code).toBe("DENYD");
  });
});

describe("metrics", () => {
  it("/metrics exposes settlement lag, backlog, batch duration and last-batch age", async () => {
    const text = await waitFor(
      "gift metrics with at least one batch observed",
      async () => {
        const body = await (await fetch(`${app.url}/metrics`)).text();
        return /trollcity_gift_batch_duration_seconds_count [1-9]/.test(body) ? body : null;
      },
      15_000,
    );
    expect(text).toMatch(/^trollcity_gift_settlement_lag_seconds \d/m);
    expect(text).toMatch(/^trollcity_gift_backlog 0$/m);
    expect(text).toMatch(/^trollcity_gift_last_batch_age_seconds \d/m);
    expect(text).toMatch(/^trollcity_gifts_settled_total 1$/m);
  });
});

describe("payment webhook", () => {
  const post = (body: string, signature?: string) =>
    fetch(`${app.url}${WEBHOOK_PATH}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(signature ? { "x-trollcity-signature": signature } : {}) },
      body,
    });
  const walletOf = async (id: string) =>
    Number(
      (await pool.query<{ balance: string }>("select balance from app_private.wallets where user_id = $1", [id])).rows[0]?.balance ?? 0,
    );

  it("credits a signed coins.purchased event once, however often it is delivered", async () => {
    const bob = world.senders[1];
    if (!bob) throw new Error("world");
    const before = await walletOf(bob.id);
    const body = JSON.stringify({
      id: "evt_001",
      type: "coins.purchased",
      data: { user_id: bob.id, coins: 500, amount_cents: 499, currency: "USD" },
    });
    const first = await post(body, signPayload(WEBHOOK_SECRET, body));
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ received: true, handled: true, duplicate: false });
    const again = await post(body, signPayload(WEBHOOK_SECRET, body));
    expect(await again.json()).toMatchObject({ received: true, duplicate: true });
    expect(await walletOf(bob.id)).toBe(before + 500);
    expect(await auditViolations(pool)).toEqual([]);
  });

  it("refuses a bad, missing or stale signature and changes nothing", async () => {
    const bob = world.senders[1];
    if (!bob) throw new Error("world");
    const before = await walletOf(bob.id);
    const body = JSON.stringify({ id: "evt_002", type: "coins.purchased", data: { user_id: bob.id, coins: 1000 } });
    const forged = await post(body, signPayload("another-secret-another-secret-another", body));
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ error: { code: "NOAUT" } });
    expect((await post(body)).status).toBe(401);
    const stale = await post(body, signPayload(WEBHOOK_SECRET, body, Math.floor(Date.now() / 1000) - 3600));
    expect(stale.status).toBe(401);
    const tampered = await post(body.replace("1000", "9999"), signPayload(WEBHOOK_SECRET, body));
    expect(tampered.status).toBe(401);
    expect(await walletOf(bob.id)).toBe(before);
  });

  it("acknowledges other event types, rejects malformed data and unknown users", async () => {
    const other = JSON.stringify({ id: "evt_003", type: "customer.updated", data: {} });
    const ack = await post(other, signPayload(WEBHOOK_SECRET, other));
    expect(await ack.json()).toEqual({ received: true, handled: false });
    const bad = JSON.stringify({ id: "evt_004", type: "coins.purchased", data: { user_id: "nope", coins: 5 } });
    expect((await post(bad, signPayload(WEBHOOK_SECRET, bad))).status).toBe(400);
    const ghost = JSON.stringify({
      id: "evt_005",
      type: "coins.purchased",
      data: { user_id: "00000000-0000-0000-0000-000000000009", coins: 5 },
    });
    const nf = await post(ghost, signPayload(WEBHOOK_SECRET, ghost));
    expect(nf.status).toBe(404);
  });
});

describe("demo seed", () => {
  it("adds the catalogue and the viewers' coins once, however often it runs", async () => {
    await seedDemo(app.db.url);
    await seedDemo(app.db.url);
    const { rows: gifts } = await pool.query<{ n: string }>("select count(*) as n from app_public.gifts where slug = any($1)", [
      DEMO_GIFTS.map((g) => g.slug),
    ]);
    expect(Number(gifts[0]?.n)).toBe(DEMO_GIFTS.length);
    const { rows } = await pool.query<{ balance: string }>(
      "select w.balance from app_private.wallets w join app_public.users u on u.id = w.user_id where u.username = 'alice'",
    );
    expect(Number(rows[0]?.balance)).toBe(demoSeedBalance("alice"));
    expect(await auditViolations(pool)).toEqual([]);
  });
});
