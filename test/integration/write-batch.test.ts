// Group commit (issue 14) against real PostgreSQL: the server's write path (web/src/server/writes.ts)
// sends concurrent gifts and chat messages as one call of app_private.send_gifts /
// send_chat_messages; every request gets its own outcome; duplicate idempotency keys in one batch;
// a batch that fails as a whole is retried request by request; and the real server SIGKILLed after
// the commit and before the answer: the client's retry with its idempotency key gets the original
// receipt, and the sender was debited once.
import pg from "pg";
import pino from "pino";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withCredentials } from "../../core/database.ts";
import { createWritePath, type GiftReceipt, type WriteError, type WritePath } from "../../web/src/server/writes.ts";
import { startTestApp } from "../support/app.ts";
import { auditViolations, createGiftWorld, type GiftWorld, tokenFor } from "../support/gifts.ts";
import { createTestDatabase, TEST_AUTHENTICATOR_PASSWORD, type TestDatabase } from "../support/testdb.ts";

let db: TestDatabase;
let pool: pg.Pool;
let world: GiftWorld;
let writes: WritePath;
const registry = new Registry();

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  world = await createGiftWorld(pool, { prefix: "wb", casters: 2, senderCoins: [100, 100, 3, 0, 1000] });
  writes = createWritePath({
    connectionString: withCredentials(db.url, "authenticator", TEST_AUTHENTICATOR_PASSWORD),
    logger: pino({ level: "silent" }),
    registry,
    maxInFlight: 2,
  });
});
afterAll(async () => {
  await writes?.close();
  await pool?.end();
  await db?.drop();
});

async function batchesObserved(path: string): Promise<{ count: number; sum: number }> {
  const m = (await registry.getSingleMetric("trollcity_write_batch_size")?.get()) as
    | { values: { metricName?: string; labels: Record<string, string>; value: number }[] }
    | undefined;
  const pick = (suffix: string) =>
    m?.values.find((v) => v.metricName === `trollcity_write_batch_size_${suffix}` && v.labels.path === path)?.value ?? 0;
  return { count: pick("count"), sum: pick("sum") };
}

const settle = <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (e: WriteError) => ({ ok: false as const, code: e.code, message: e.message }),
  );

describe("gifts through the write path", () => {
  it("concurrent requests from many senders: one call per lane, one outcome per request, duplicate keys replayed", async () => {
    const [a, b, poor, broke] = world.senders;
    const [c0, c1] = world.casters;
    const [rose, heart, crown] = world.gifts;
    if (!a || !b || !poor || !broke || !c0 || !c1 || !rose || !heart || !crown) throw new Error("world");
    const before = await batchesObserved("gifts");
    const results = await Promise.all(
      [
        { senderId: a.id, streamId: c0.streamId, giftId: crown.id, quantity: 2, idempotencyKey: "wb-1" }, // 50, a: 50 left
        { senderId: a.id, streamId: c0.streamId, giftId: crown.id, quantity: 2, idempotencyKey: "wb-1" }, // replay
        { senderId: a.id, streamId: c0.streamId, giftId: crown.id, quantity: 1, idempotencyKey: "wb-1" }, // IDEMP
        { senderId: b.id, streamId: c1.streamId, giftId: heart.id, quantity: 3, idempotencyKey: "wb-1" }, // other sender, same key: own gift
        { senderId: poor.id, streamId: c0.streamId, giftId: heart.id }, // INSFD (3 coins)
        { senderId: broke.id, streamId: c0.streamId, giftId: rose.id, quantity: 0 }, // BADIN
        { senderId: c0.id, streamId: c0.streamId, giftId: rose.id }, // DENYD
        { senderId: null, streamId: c0.streamId, giftId: rose.id }, // NOAUT
        { senderId: a.id, streamId: c1.streamId, giftId: crown.id, quantity: 2 }, // 50 more: a at 0
        { senderId: a.id, streamId: c1.streamId, giftId: rose.id }, // INSFD now
      ].map((r) => settle(writes.gift(r))),
    );
    expect(results.map((r) => (r.ok ? "ok" : r.code))).toEqual([
      "ok",
      "ok",
      "IDEMP",
      "ok",
      "INSFD",
      "BADIN",
      "DENYD",
      "NOAUT",
      "ok",
      "INSFD",
    ]);
    const ok = (i: number) => (results[i] as { value: GiftReceipt }).value;
    expect(ok(0)).toMatchObject({ coins: "50", balance: "50", replayed: false, status: "pending", quantity: 2 });
    expect(ok(1)).toMatchObject({ gift_ledger_id: ok(0).gift_ledger_id, replayed: true });
    expect(ok(3)).toMatchObject({ coins: "15", balance: "85", replayed: false });
    expect(ok(3).gift_ledger_id).not.toBe(ok(0).gift_ledger_id);
    expect(ok(8)).toMatchObject({ coins: "50", balance: "0" });
    expect(ok(0).created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d$/);
    expect((results[9] as { message: string }).message).toBe(
      `insufficient funds: 1 × "${rose.slug}" costs 1 coins, user ${a.username} has 0`,
    );
    const after = await batchesObserved("gifts");
    expect(after.count - before.count).toBeLessThanOrEqual(2); // one batch per lane (senders are spread over 2)
    expect(after.sum - before.sum).toBe(10);

    const { rows } = await pool.query<{ n: number }>("select count(*)::int as n from app_private.gift_ledger where sender_id = $1", [a.id]);
    expect(rows[0]?.n).toBe(2);
    const events = await pool.query<{ n: number }>("select count(*)::int as n from app_private.stream_events where kind = 'gift'");
    expect(events.rows[0]?.n).toBe(3);
    expect(await auditViolations(pool)).toEqual([]);
  });

  it("a batch that fails as a whole is retried request by request: only the poison request fails, nothing twice", async () => {
    const [, , , , rich] = world.senders;
    const [c0] = world.casters;
    const [rose] = world.gifts;
    if (!rich || !c0 || !rose) throw new Error("world");
    // A rule the batch function does not know about (as a new constraint would be): one key is refused.
    await pool.query(`
      create or replace function app_private.tg_test_poison() returns trigger language plpgsql as $$
      begin
        if new.idempotency_key = 'poison' then raise exception 'poisoned' using errcode = '23514'; end if;
        return new;
      end $$;
      create trigger _999_test_poison before insert on app_private.gift_ledger for each row execute function app_private.tg_test_poison();`);
    try {
      const before = await batchesObserved("gifts");
      const keys = ["wb-p1", "poison", "wb-p2", "wb-p1"];
      const results = await Promise.all(
        keys.map((k) => settle(writes.gift({ senderId: rich.id, streamId: c0.streamId, giftId: rose.id, idempotencyKey: k }))),
      );
      expect(results.map((r) => (r.ok ? (r.value.replayed ? "replay" : "ok") : r.code))).toEqual(["ok", "23514", "ok", "replay"]);
      const after = await batchesObserved("gifts");
      expect(after.count - before.count).toBe(5); // the batch, then each of the four alone
      const { rows } = await pool.query<{ k: string; n: number }>(
        "select idempotency_key as k, count(*)::int as n from app_private.gift_ledger where sender_id = $1 group by 1 order by 1",
        [rich.id],
      );
      expect(rows).toEqual([
        { k: "wb-p1", n: 1 },
        { k: "wb-p2", n: 1 },
      ]);
      const w = await pool.query<{ balance: string }>("select balance from app_private.wallets where user_id = $1", [rich.id]);
      expect(w.rows[0]?.balance).toBe("998");
    } finally {
      await pool.query("drop trigger _999_test_poison on app_private.gift_ledger; drop function app_private.tg_test_poison()");
    }
    expect(await auditViolations(pool)).toEqual([]);
  });
});

describe("chat through the write path", () => {
  it("one call per lane for concurrent messages; each gets its message or its own error", async () => {
    const [a, b] = world.senders;
    const [c0] = world.casters;
    if (!a || !b || !c0) throw new Error("world");
    const before = await batchesObserved("chat");
    const reqs = [
      ...Array.from({ length: 6 }, (_, i) => ({ senderId: a.id, streamId: c0.streamId, body: `a ${i}`, clientId: `a-${i}` })),
      { senderId: b.id, streamId: c0.streamId, body: "   " },
      { senderId: b.id, streamId: c0.streamId, body: "hello from b" },
    ];
    const results = await Promise.all(reqs.map((r) => settle(writes.chat(r))));
    expect(results.map((r) => (r.ok ? "ok" : r.code))).toEqual(["ok", "ok", "ok", "ok", "ok", "RATEL", "BADIN", "ok"]);
    const first = results[0] as unknown as { value: { id: string; body: string; client_id: string; sender: { username: string } } };
    expect(first.value).toMatchObject({ body: "a 0", client_id: "a-0", sender: { username: a.username } });
    const limited = results[5] as unknown as { message: string };
    expect(limited.message).toMatch(/^chat rate limit for user .*: retry after 1\.0 seconds$/);
    const after = await batchesObserved("chat");
    expect(after.count - before.count).toBeLessThanOrEqual(2);
    expect(after.sum - before.sum).toBe(8);
    const { rows } = await pool.query<{ body: string }>(
      "select payload ->> 'body' as body from app_private.stream_events where kind = 'chat' order by id",
    );
    expect(rows.map((r) => r.body)).toEqual(["a 0", "a 1", "a 2", "a 3", "a 4", "hello from b"]);
  });
});

describe("backpressure through GraphQL", () => {
  it("a full write queue answers BUSY with retry_after at once; every request gets exactly one answer", async () => {
    const [, b, , , rich] = world.senders;
    const [c0] = world.casters;
    const [rose] = world.gifts;
    if (!b || !rich || !c0 || !rose) throw new Error("world");
    const app = await startTestApp({ RUN_WEB: "false", RUN_WORKER: "false", WRITE_LANES: "1", WRITE_QUEUE_MAX: "2" }, { db });
    try {
      const tokens = [await tokenFor(rich.id), await tokenFor(b.id)];
      const send = "mutation($s: UUID!, $g: UUID!) { sendGift(input: {streamId: $s, giftId: $g}) { result { giftLedgerId } } }";
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => app.gql(send, { s: c0.streamId, g: rose.id }, tokens[i % 2])));
      const codes = results.map((r) => (r.errors ? String(r.errors[0]?.extensions?.code) : "ok"));
      const busy = results.filter((r) => r.errors?.[0]?.extensions?.code === "BUSY");
      expect(codes.filter((c) => c !== "ok" && c !== "BUSY")).toEqual([]);
      expect(busy.length).toBeGreaterThan(0);
      expect(codes.filter((c) => c === "ok").length).toBeGreaterThan(0);
      expect(busy[0]?.errors?.[0]?.extensions).toMatchObject({ code: "BUSY", httpStatus: 503, retry_after: 1 });
      // Exactly the accepted ones were written.
      const ids = results.flatMap((r) => {
        const id = (r.data as { sendGift?: { result?: { giftLedgerId?: string } } } | undefined)?.sendGift?.result?.giftLedgerId;
        return id ? [id] : [];
      });
      const { rows } = await pool.query<{ n: number }>(
        "select count(*)::int as n from app_private.gift_ledger where id = any($1::bigint[])",
        [ids],
      );
      expect(rows[0]?.n).toBe(codes.filter((c) => c === "ok").length);
    } finally {
      await app.stop();
    }
    expect(await auditViolations(pool)).toEqual([]);
  });
});

describe("the server SIGKILLed between commit and answer", () => {
  it("the client's retry with its idempotency key gets the original receipt; one debit", async () => {
    const [, b] = world.senders;
    const [c0] = world.casters;
    const [, heart] = world.gifts;
    if (!b || !c0 || !heart) throw new Error("world");
    const token = await tokenFor(b.id);
    const send = `mutation($s: UUID!, $g: UUID!, $k: String) {
      sendGift(input: {streamId: $s, giftId: $g, quantity: 1, idempotencyKey: $k}) { result { giftLedgerId balance replayed } } }`;
    const balance = async () =>
      (await pool.query<{ balance: string }>("select balance from app_private.wallets where user_id = $1", [b.id])).rows[0]?.balance;
    const startBalance = await balance();

    const doomed = await startTestApp({ RUN_WEB: "false", TROLLCITY_TEST_CRASH_AFTER_COMMIT: "gifts" }, { db });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => doomed.proc.on("exit", (_code, signal) => resolve(signal)));
    const lost = await doomed.gql(send, { s: c0.streamId, g: heart.id, k: "wb-crash" }, token).catch((e: Error) => e);
    expect(lost).toBeInstanceOf(Error); // the connection dropped: no answer
    expect(await exited).toBe("SIGKILL");
    // It had committed.
    const { rows } = await pool.query<{ id: string }>(
      "select id::text from app_private.gift_ledger where sender_id = $1 and idempotency_key = 'wb-crash'",
      [b.id],
    );
    expect(rows).toHaveLength(1);
    expect(await balance()).toBe(String(Number(startBalance) - 5));

    const app = await startTestApp({ RUN_WEB: "false" }, { db });
    try {
      const retry = await app.gql<{ sendGift: { result: { giftLedgerId: string; balance: string; replayed: boolean } } }>(
        send,
        { s: c0.streamId, g: heart.id, k: "wb-crash" },
        token,
      );
      expect(JSON.stringify(retry.errors)).toBe(undefined);
      expect(retry.data?.sendGift.result).toEqual({ giftLedgerId: rows[0]?.id, balance: String(Number(startBalance) - 5), replayed: true });
      expect(await balance()).toBe(String(Number(startBalance) - 5));
    } finally {
      await app.stop();
    }
    expect(await auditViolations(pool)).toEqual([]);
  });
});
