// The settlement schedule survives a SIGKILL: two server processes (each running graphile-worker);
// the one whose worker is in the middle of a settlement batch is killed. graphile-worker would keep
// that job locked for hours; the survivor must restore the loop and settle new gifts within 30 s.
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app.ts";
import { auditViolations, createGiftWorld, pendingCount, sendGiftAs, waitFor } from "../support/gifts.ts";
import { createTestDatabase, type TestDatabase } from "../support/testdb.ts";

let db: TestDatabase;
let pool: pg.Pool;
const apps = new Map<string, TestApp>();

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 6 });
  // Killed processes and the final forced drop end connections under us: expected here.
  pool.on("connect", (c) => c.on("error", () => {}));
  pool.on("error", () => {});
  for (const name of ["gifts-rec-a", "gifts-rec-b"]) apps.set(name, await startTestApp({ PGAPPNAME: name }, { db }));
});
afterAll(async () => {
  for (const app of apps.values()) await app.stop("SIGKILL").catch(() => {});
  await pool?.end();
  await db?.drop();
});

it("a worker SIGKILLed mid-batch: the loop recovers within 30 s and nothing is settled twice", async () => {
  const world = await createGiftWorld(pool, { prefix: "gr", casters: 1, senderCoins: [1000, 1000] });
  const [alice, bob] = world.senders;
  const [caster] = world.casters;
  const rose = world.gifts[0];
  if (!alice || !bob || !caster || !rose) throw new Error("world");
  await waitFor(
    "a first settlement batch",
    async () => (await pool.query("select 1 from app_public.gift_batch_logs limit 1")).rowCount,
    20_000,
  );

  // The once-a-minute cron backstop (loops__ensure, at second 0) would also restore the loop: start
  // early in a minute so that only the 30 s recovery path can be what we measure.
  await waitFor("the start of a minute", async () => new Date().getSeconds() >= 1 && new Date().getSeconds() <= 4, 65_000, 200);

  // Freeze the next batch in its last step: it will wait for this lock with its gifts marked, uncommitted.
  const blocker = new pg.Client({ connectionString: db.url });
  await blocker.connect();
  await blocker.query("begin");
  await blocker.query("lock table app_public.gift_batch_logs in exclusive mode");
  expect((await sendGiftAs(pool, alice.id, caster.streamId, rose.id, 3)).ok).toBe(true);
  const stuck = await waitFor(
    "a worker to be stuck mid-batch",
    async () =>
      (
        await pool.query<{ app: string }>(
          `select a.application_name as app from pg_locks l join pg_stat_activity a on a.pid = l.pid
            where not l.granted and l.relation = 'app_public.gift_batch_logs'::regclass`,
        )
      ).rows[0]?.app,
    20_000,
  );
  const victim = apps.get(stuck);
  expect(victim).toBeDefined();
  const { rows: job } = await pool.query<{ locked: boolean }>(
    "select locked_at is not null as locked from graphile_worker.jobs where key = 'gift_ledger__settle'",
  );
  expect(job[0]?.locked).toBe(true);

  // Kill the worker holding the settlement job, then let its orphaned batch finish or abort.
  await victim?.stop("SIGKILL");
  apps.delete(stuck);
  const killedAt = Date.now();
  await blocker.query("commit");
  await blocker.end();

  // New gifts after the kill are settled by the survivor within 30 s.
  expect((await sendGiftAs(pool, bob.id, caster.streamId, rose.id, 2)).ok).toBe(true);
  await waitFor("the survivor to settle every gift", async () => (await pendingCount(pool)) === 0, 30_000, 250);
  const recoveredIn = Date.now() - killedAt;
  expect(recoveredIn).toBeLessThan(30_000);

  // Exactly once: both gifts settled, books balanced, the caster holds exactly the net of 5 roses.
  expect(await auditViolations(pool)).toEqual([]);
  const { rows } = await pool.query<{ balance: string }>("select balance from app_private.wallets where user_id = $1", [caster.id]);
  expect(Number(rows[0]?.balance)).toBe(5 - Math.floor((3 * 2000) / 10000) - Math.floor((2 * 2000) / 10000));
  console.log(`settlement loop recovered ${recoveredIn} ms after SIGKILL of ${stuck}`);
}, 150_000);
