// SIGKILL of the server process under chat and gift load from concurrent clients: a single process
// (replaced by a new one, as a supervisor would) and one child of WEB_CONCURRENCY=2 (the primary
// forks a new one). Chat and viewer counts are served again, /readyz is 200 again, every gift
// acknowledged before the kill exists exactly once, a retry with the same idempotency key returns the
// original receipt, and the audits are clean. Each case prints its measured recovery time.
import { execFileSync } from "node:child_process";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { goLive, makeUser, sendChat, type User, type Viewer, viewer } from "../integration/realtime.helpers.ts";
import { startTestApp, type TestApp } from "../support/app.ts";
import { auditViolations, pendingCount, waitFor } from "../support/gifts.ts";
import { createTestDatabase, type TestDatabase } from "../support/testdb.ts";

const RECOVERY_BOUND_MS = 30_000;
const FAST = { RELAY_TICK_MS: "50", PRESENCE_FLUSH_MS: "300", RUN_WEB: "false" };
const SEND_GIFT = `mutation($s: UUID!, $g: UUID!, $k: String!) {
  sendGift(input: {streamId: $s, giftId: $g, quantity: 1, idempotencyKey: $k}) { result { giftLedgerId replayed } }
}`;
const report = (what: string, ms: number) => console.log(`[server-kill] ${what}: ${(ms / 1000).toFixed(1)} s`);

let db: TestDatabase;
let pool: pg.Pool;
let app: TestApp;
let host: User;
const clients: User[] = [];
let streamId = "";
let giftId = "";

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 4 });
  pool.on("connect", (c) => c.on("error", () => {}));
  pool.on("error", () => {});
  app = await startTestApp(FAST, { db });
  host = await makeUser(app, "sk_host", { role: "broadcaster" });
  streamId = await goLive(app, host, "Kill test");
  for (let i = 0; i < 3; i++) clients.push(await makeUser(app, `sk_c${i}`));
  for (const u of clients) await pool.query("select app_private.issue_coins($1, 100000, 'grant', $2)", [u.id, `test:${u.username}`]);
  const { rows } = await pool.query<{ id: string }>(
    "insert into app_public.gifts (slug, name, coin_price, art_url) values ('sk-rose', 'Rose', 1, '/gifts/test.svg') returning id",
  );
  giftId = rows[0]?.id ?? "";
}, 60_000);
afterAll(async () => {
  await app?.stop("SIGKILL").catch(() => {});
  await pool?.end();
  await db?.drop();
});

async function gift(a: TestApp, user: User, key: string): Promise<string | null> {
  try {
    const r = await a.gql<{ sendGift: { result: { giftLedgerId: string } } }>(SEND_GIFT, { s: streamId, g: giftId, k: key }, user.token);
    return r.data?.sendGift?.result?.giftLedgerId ?? null;
  } catch {
    return null;
  }
}

/** Gift and chat load from every client against `target()` until stopped. */
function load(target: () => TestApp, tag: string) {
  const acked = new Map<string, string>();
  const unknown = new Set<string>();
  let running = true;
  const loops = clients.map(async (u, i) => {
    for (let n = 0; running; n++) {
      const key = `${tag}-${u.username}-${n}`;
      const id = await gift(target(), u, key);
      if (id) acked.set(key, id);
      else unknown.add(key);
      await sendChat(target(), u, streamId, `${tag} ${i}.${n}`).catch(() => null);
      await new Promise((r) => setTimeout(r, id ? 30 : 200));
    }
  });
  return {
    acked,
    unknown,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

async function readyzOk(a: TestApp) {
  const r = await fetch(`${a.url}/readyz`, { signal: AbortSignal.timeout(3000) }).catch(() => null);
  return r?.status === 200;
}

/** After the kill: chat reaches a new viewer, counts are published, /readyz 200; then the books. */
async function checkRecovered(
  a: () => TestApp,
  killedAt: number,
  work: ReturnType<typeof load>,
  held: Viewer[],
  what: string,
  countBoundMs = RECOVERY_BOUND_MS,
) {
  const ready = await waitFor("/readyz 200", async () => (await readyzOk(a())) && Date.now(), RECOVERY_BOUND_MS, 100);
  const chat = await waitFor(
    "chat delivered to a viewer",
    async () => {
      const v = await viewer(a().url, streamId).catch(() => null);
      if (!v) return false;
      try {
        const body = `probe ${Date.now()}`;
        await sendChat(a(), host, streamId, body);
        return (
          (await v
            .waitFor(() => v.chatBodies().includes(body), body, 2000)
            .then(
              () => true,
              () => false,
            )) && Date.now()
        );
      } finally {
        v.close();
      }
    },
    RECOVERY_BOUND_MS,
    100,
  );
  await work.stop();
  // Viewer counts right again: the sockets that survived plus one new viewer (the killed process's
  // presence rows are counted until they are 15 s old: publish_viewer_counts).
  const fresh = await viewer(a().url, streamId);
  const expected = held.filter((v) => v.closeCode === null).length + 1;
  const counts = await waitFor(
    `viewer count published as ${expected}`,
    async () =>
      (
        await pool.query("select 1 from app_private.stream_viewer_counts where stream_id = $1 and viewers = $2 and published_at >= $3", [
          streamId,
          expected,
          new Date(killedAt),
        ])
      ).rowCount && Date.now(),
    RECOVERY_BOUND_MS,
    100,
  );
  fresh.close();
  for (const v of held) v.close();
  report(`${what} → /readyz 200`, ready - killedAt);
  report(`${what} → chat delivered`, chat - killedAt);
  report(`${what} → viewer count right again (${expected})`, counts - killedAt);
  for (const t of [ready, chat, counts]) expect(t - killedAt).toBeLessThan(RECOVERY_BOUND_MS);
  expect(counts - killedAt).toBeLessThan(countBoundMs);
  // Unanswered gifts: the client retries with the same key; acknowledged ones: the original receipt.
  for (const key of work.unknown) {
    if (work.acked.has(key)) continue;
    const user = clients.find((u) => key.includes(`-${u.username}-`)) as User;
    work.acked.set(key, await waitFor(`retry ${key}`, () => gift(a(), user, key), 10_000));
  }
  const [key, id] = [...work.acked][0] as [string, string];
  expect(await gift(a(), clients.find((u) => key.includes(`-${u.username}-`)) as User, key)).toBe(id);
  await waitFor("every gift settled", async () => (await pendingCount(pool)) === 0, RECOVERY_BOUND_MS);
  expect(await auditViolations(pool)).toEqual([]);
  const { rows } = await pool.query<{ key: string; id: string }>(
    "select idempotency_key as key, id from app_private.gift_ledger where stream_id = $1",
    [streamId],
  );
  for (const [k, v] of work.acked)
    expect(
      rows.filter((r) => r.key === k).map((r) => r.id),
      k,
    ).toEqual([v]);
  console.log(`[server-kill] ${what}: ${work.acked.size} gifts acknowledged, ${work.unknown.size} unanswered (retried)`);
}

it("SIGKILL of the single server process under load: a new process serves everything again", async () => {
  let current = app;
  const held = await Promise.all([0, 1, 2, 3].map(() => viewer(app.url, streamId)));
  const work = load(() => current, "single");
  await new Promise((r) => setTimeout(r, 1500));
  const killedAt = Date.now();
  await app.stop("SIGKILL");
  app = await startTestApp(FAST, { db });
  current = app;
  report("SIGKILL → new process listening", Date.now() - killedAt);
  await checkRecovered(() => current, killedAt, work, held, "SIGKILL single process");
}, 120_000);

it("SIGKILL of one child of WEB_CONCURRENCY=2 under load: the primary forks a new one, everything served again", async () => {
  await app.stop("SIGTERM");
  app = await startTestApp({ ...FAST, WEB_CONCURRENCY: "2" }, { db });
  await waitFor("two children running", async () => (app.output().match(/Troll City is running at/g) ?? []).length >= 2, 30_000);
  const children = () =>
    execFileSync("ps", ["-o", "pid=", "--ppid", String(app.proc.pid)])
      .toString()
      .split("\n")
      .map((s) => Number(s.trim()))
      .filter(Boolean);
  const [victim] = children();
  expect(victim).toBeTypeOf("number");
  const held = await Promise.all([0, 1, 2, 3].map(() => viewer(app.url, streamId)));
  const work = load(() => app, "cluster");
  await new Promise((r) => setTimeout(r, 1500));
  const killedAt = Date.now();
  process.kill(victim as number, "SIGKILL");
  const forked = await waitFor(
    "the primary forks a new child",
    async () =>
      children().length === 2 &&
      !children().includes(victim as number) &&
      (app.output().match(/Troll City is running at/g) ?? []).length >= 3 &&
      Date.now(),
    RECOVERY_BOUND_MS,
    100,
  );
  report("SIGKILL one child → replacement listening", forked - killedAt);
  await checkRecovered(() => app, killedAt, work, held, "SIGKILL one of 2 children", 14_000); // 7-10.5 s measured; the old code took 15.8 s
}, 120_000);
