// Gift bomb under faults (real PostgreSQL, real server processes): concurrent gifts from many senders,
// some short of funds, while settlement runs concurrently (two server processes with their worker
// loops, plus two direct settlers), one settler SIGKILLed mid-batch and one whole server process
// SIGKILLed. Afterwards the books must balance exactly, checked both by the SQL audit and by the
// client's own bookkeeping of every receipt it got.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app.ts";
import { auditViolations, createGiftWorld, expectedBalances, type GiftWorld, pendingCount, sendGiftAs, waitFor } from "../support/gifts.ts";
import { createTestDatabase, type TestDatabase } from "../support/testdb.ts";

const FEE_BPS = 2000;
const settlerPath = fileURLToPath(new URL("../support/gifts-settler.ts", import.meta.url));

let db: TestDatabase;
let pool: pg.Pool;
const apps: TestApp[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 40 });
  // Killed processes and the final forced drop end connections under us: expected here.
  pool.on("connect", (c) => c.on("error", () => {}));
  pool.on("error", () => {});
});
afterAll(async () => {
  for (const app of apps) await app.stop("SIGKILL").catch(() => {});
  await pool?.end();
  await db?.drop();
});

interface Accepted {
  senderId: string;
  casterId: string;
  coins: number;
  ledgerId: string;
}

/** Fire `total` gifts with `concurrency` in flight; each sender sends total/senders gifts. */
async function giftBomb(world: GiftWorld, total: number, concurrency: number, onProgress?: (done: number) => Promise<void>) {
  const accepted: Accepted[] = [];
  const rejected = new Map<string, number>();
  const jobs = Array.from({ length: total }, (_, i) => {
    const sender = world.senders[i % world.senders.length];
    const caster = world.casters[(i * 7) % world.casters.length];
    const gift = world.gifts[(i * 13) % world.gifts.length];
    if (!sender || !caster || !gift) throw new Error("world");
    return { sender, caster, gift, quantity: 1 + (i % 3) };
  });
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let j = next++; j < jobs.length; j = next++) {
        const job = jobs[j];
        if (!job) break;
        const r = await sendGiftAs(pool, job.sender.id, job.caster.streamId, job.gift.id, job.quantity);
        if (r.ok) {
          expect(Number(r.receipt.coins)).toBe(job.gift.price * job.quantity);
          accepted.push({
            senderId: job.sender.id,
            casterId: job.caster.id,
            coins: Number(r.receipt.coins),
            ledgerId: r.receipt.gift_ledger_id,
          });
        } else rejected.set(r.code, (rejected.get(r.code) ?? 0) + 1);
        done++;
        if (onProgress) await onProgress(done);
      }
    }),
  );
  return { accepted, rejected };
}

/** Settle in small batches in a loop until stopped (a second, third... concurrent settler). */
function directSettler(maxRows: number) {
  let stop = false;
  let batches = 0;
  const done = (async () => {
    while (!stop) {
      const { rows } = await pool.query<{ processed: number }>("select processed from app_private.process_gift_ledger_batch($1)", [
        maxRows,
      ]);
      batches++;
      if (!rows[0]?.processed) await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      stop = true;
      await done;
      return batches;
    },
  };
}

async function settleEverything() {
  for (;;) {
    const { rows } = await pool.query<{ processed: number }>("select processed from app_private.process_gift_ledger_batch()");
    if (!rows[0]?.processed) break;
  }
}

async function checkBooks(world: GiftWorld, accepted: Accepted[]) {
  expect(await auditViolations(pool)).toEqual([]);
  const { balances, fees } = expectedBalances(world, accepted, FEE_BPS);
  const { rows: wallets } = await pool.query<{ user_id: string; balance: string }>(
    "select user_id, balance from app_private.wallets where user_id = any($1)",
    [[...balances.keys()]],
  );
  const actual = new Map(wallets.map((w) => [w.user_id, Number(w.balance)]));
  for (const [id, want] of balances) expect({ id, balance: actual.get(id) ?? 0 }).toEqual({ id, balance: want });
  const ids = accepted.map((a) => a.ledgerId);
  const { rows: ledger } = await pool.query<{ n: string; settled: string; coins: string }>(
    "select count(*) as n, count(*) filter (where status = 'settled') as settled, coalesce(sum(coins), 0) as coins from app_private.gift_ledger_status where id = any($1::bigint[])",
    [ids],
  );
  expect(Number(ledger[0]?.n)).toBe(accepted.length);
  expect(Number(ledger[0]?.settled)).toBe(accepted.length);
  // Nothing else reached the ledger (no gift was recorded without a receipt, none twice).
  const { rows: all } = await pool.query<{ n: string }>("select count(*) as n from app_private.gift_ledger where sender_id = any($1)", [
    world.senders.map((s) => s.id),
  ]);
  expect(Number(all[0]?.n)).toBe(accepted.length);
  const { rows: platform } = await pool.query<{ total: string }>(
    `select coalesce(sum(t.amount), 0) as total from app_private.coin_transactions t
      where t.kind = 'gift_fee' and t.batch_id in (select distinct g.batch_id from app_private.gift_ledger_status g where g.id = any($1::bigint[]))`,
    [ids],
  );
  expect(Number(platform[0]?.total)).toBe(fees);
  const { rows: neg } = await pool.query<{ n: string }>("select count(*) as n from app_private.wallets where balance < 0");
  expect(Number(neg[0]?.n)).toBe(0);
  // Leaderboard totals equal the client's own sums per caster.
  const { rows: stats } = await pool.query<{ broadcaster_id: string; coins: string }>(
    "select broadcaster_id, coins from app_public.broadcaster_stats where period = 'all_time' and broadcaster_id = any($1)",
    [world.casters.map((c) => c.id)],
  );
  for (const c of world.casters) {
    const want = accepted.filter((a) => a.casterId === c.id).reduce((n, a) => n + a.coins, 0);
    expect(Number(stats.find((s) => s.broadcaster_id === c.id)?.coins ?? 0)).toBe(want);
  }
}

describe("gift bomb", () => {
  it("50 concurrent gifts with two concurrent settlers: every accepted gift settled exactly once", async () => {
    // 10 senders: 7 can afford everything, 3 run short.
    const world = await createGiftWorld(pool, { prefix: "gb", casters: 2, senderCoins: [500, 500, 500, 500, 500, 500, 500, 20, 6, 0] });
    const settlers = [directSettler(5), directSettler(5)];
    const { accepted, rejected } = await giftBomb(world, 50, 50);
    await Promise.all(settlers.map((s) => s.stop()));
    await settleEverything();
    expect([...rejected.keys()]).toEqual(["INSFD"]);
    expect(accepted.length + (rejected.get("INSFD") ?? 0)).toBe(50);
    expect(accepted.length).toBeGreaterThanOrEqual(35);
    await checkBooks(world, accepted);
  });

  it("5,000 concurrent gifts from 100 senders, two server processes settling, a settler and a server SIGKILLed mid-way", async () => {
    // Two full server processes (each with its worker and loop watch) on the same database.
    apps.push(await startTestApp({ PGAPPNAME: "gifts-app-a" }, { db }), await startTestApp({ PGAPPNAME: "gifts-app-b" }, { db }));
    // 100 senders: 90 rich enough, 10 able to pay for only a few of their 50 gifts.
    const coins = Array.from({ length: 100 }, (_, i) => (i % 10 === 9 ? 12 : 2_000));
    const world = await createGiftWorld(pool, { prefix: "gk", casters: 3, senderCoins: coins });
    const settlers = [directSettler(200), directSettler(200)];
    let killedSettler: { child: ChildProcess; batch: { id: string; processed: number } } | null = null;
    let killedApp = false;
    const { accepted, rejected } = await giftBomb(world, 5_000, 40, async (done) => {
      if (done === 1_500 && !killedSettler) {
        // A settler takes a batch and dies before commit.
        const child = spawn(process.execPath, [settlerPath, db.url, "300"], { stdio: ["ignore", "pipe", "pipe"] });
        killedSettler = { child, batch: { id: "", processed: 0 } };
        const line = await new Promise<string>((resolve, reject) => {
          let out = "";
          child.stdout?.on("data", (d: Buffer) => {
            out += d.toString();
            const m = /mid-batch (.+)/.exec(out);
            if (m?.[1]) resolve(m[1]);
          });
          child.stderr?.on("data", (d: Buffer) => {
            out += d.toString();
          });
          child.on("exit", (code) => reject(new Error(`settler exited (${code}): ${out}`)));
        });
        killedSettler.batch = JSON.parse(line) as { id: string; processed: number };
        child.kill("SIGKILL");
      }
      if (done === 2_500 && !killedApp) {
        killedApp = true;
        await apps[0]?.stop("SIGKILL");
      }
    });
    await Promise.all(settlers.map((s) => s.stop()));
    expect([...rejected.keys()]).toEqual(["INSFD"]);
    expect(accepted.length + (rejected.get("INSFD") ?? 0)).toBe(5_000);
    expect(rejected.get("INSFD")).toBeGreaterThan(0);

    // The killed settler really held a batch; it was never logged, and its gifts were settled by others.
    const ks = killedSettler as { batch: { id: string; processed: number } } | null;
    expect(ks?.batch.processed).toBeGreaterThan(0);
    const { rows: ghost } = await pool.query<{ n: string }>(
      "select (select count(*) from app_public.gift_batch_logs where id = $1) + (select count(*) from app_private.gift_batch_items where batch_id = $1) as n",
      [ks?.batch.id],
    );
    expect(Number(ghost[0]?.n)).toBe(0);

    // The surviving server's worker loop drains the rest by itself.
    await waitFor("the surviving worker to settle the backlog", async () => (await pendingCount(pool)) === 0, 45_000, 500);
    await checkBooks(world, accepted);
    const { rows: logs } = await pool.query<{ batches: string; concurrent: string }>(
      `select count(*) as batches,
              count(*) filter (where exists (select 1 from app_public.gift_batch_logs o
                                              where o.id <> l.id and o.started_at < l.finished_at and l.started_at < o.finished_at and o.processed > 0)) as concurrent
         from app_public.gift_batch_logs l where l.processed > 0`,
    );
    // Settlement really ran concurrently (overlapping batches), not one after another.
    expect(Number(logs[0]?.concurrent)).toBeGreaterThan(0);
  }, 150_000);
});
