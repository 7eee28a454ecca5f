// `npm run bench bomb [--smoke] [--small=50] [--rounds=20] [--senders=5000] [--big-rounds=2] [--insfd=5000]
//   [--sockets=16] [--window=16] [--seconds=30] [--floor-seconds=10] [--naive-clients=50] [--naive-rounds=<rounds>]
//   [--connect-batch=250] [--settle-each=on|off]`
// Gift bombs on one stream through the real server (issue 14: "gift bomb (50 and 5,000 concurrent, plus
// an INSFD storm), sustained gift ingest with settlement running"), fsync and synchronous_commit on,
// production mode, one server process with the worker in it settling every 10 s:
//   bomb 50      --small funded senders, each with its own authenticated broadcast socket on ONE stream,
//                send one `gift` frame (own idempotency key) at the same moment, --rounds times (each
//                round waits for every answer)
//   bomb 5,000   the same with --senders sockets (opened in batches of --connect-batch first, so the
//                connect storm is not the measurement), --big-rounds times. Every socket watches the
//                stream, so every gift is also fanned out to every socket (n² event deliveries)
//   INSFD storm  --insfd senders with 0 coins send one gift at once: every answer must be INSFD, nothing
//                reaches the ledger, no coin is created or destroyed (the same write path, no fan-out)
//   sustained    --sockets sockets keep --window frames in flight each for --seconds while settlement runs
//   floor        pgbench, 16 clients, one-row durable INSERT per transaction, same cluster, same run
//   naive        the old design: one durable transaction per gift debiting the sender and crediting the
//                receiver's wallet row directly (one hot row), --naive-clients clients on one receiver in
//                the bomb's shape (all at once, --naive-rounds rounds), direct SQL with no server in front
// Balance lag = the time from a gift's ack (load generator clock) to the end of the settlement batch
// that credited it (gift_batch_logs.finished_at; same machine, same clock). Nothing here settles: the
// worker does. --settle-each (default on, off with --smoke): wait for the queue to empty after each
// bomb, so a row's lag is its own (off: the next row runs while the previous one's gifts settle). The
// audit (app_private.gift_audit(), db/audit/gift_ledger.sql) and the load generator's own bookkeeping
// (the receiver holds acked × (price − fee), the platform acked × fee, the senders lost acked × price,
// wallets + pending + platform = issued) are checked once every gift has settled; each row also checks
// that the coins held equal the coins issued before and after it. Server CPU is the server process tree
// (/proc) per operation; statements are the cluster's top-level statements (pg_stat_statements) during
// the row per operation, background loops included. --smoke: small sizes, about 25 s on 2 cores.
import { readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import pg from "pg";
import WebSocket from "ws";
import { applyCurrentMigration, currentMigrationFiles, ensureDatabase, migrateDatabase, setupRoles } from "../../db/tools.ts";
import { startTestApp, type TestApp } from "../support/app.ts";
import { startCluster } from "../support/cluster.ts";
import { createGiftWorld, tokenFor } from "../support/gifts.ts";
import { cloneDatabase, dbUrl, TEMPLATE_DB, TEST_AUTHENTICATOR_PASSWORD } from "../support/testdb.ts";
import { treeCpu } from "./bench-graphql.ts";
import { pgbenchFloor } from "./floor.ts";
import { emitRows, fmt, type MatrixRow, matrixRow } from "./matrix-row.ts";
import { statementCount } from "./profile.ts";

const log = (m: string) => console.error(`  ${m}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))] ?? Number.NaN;

const PRICE = 5;
const LAG_BUDGET_MS = 11_000;
const FRAME_TIMEOUT_MS = 60_000;

interface Answer {
  ok: boolean;
  code: string;
  /** gift_ledger_id of an ack. */
  giftId?: string;
  replayed?: boolean;
  /** When the answer arrived: wall-clock ms (timeOrigin + now(), compared with PostgreSQL's clock_timestamp()). */
  at: number;
  ms: number;
}

interface Sock {
  send(frame: Record<string, unknown>): Promise<Answer>;
  close(): void;
}

/** `events` frames (the stream's fan-out) received by every socket of this load generator, and their bytes. */
const fanout = { frames: 0, bytes: 0 };

/** An authenticated broadcast socket whose frames are answered by id (never rejects: errors are answers). */
async function openSocket(baseUrl: string, streamId: string, token: string): Promise<Sock> {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/broadcast?stream=${streamId}`, {
    perMessageDeflate: false,
    skipUTF8Validation: true,
  });
  const waiting = new Map<string, { t0: number; done: (a: Answer) => void; timer: NodeJS.Timeout }>();
  let helloed: () => void = () => {};
  const hello = new Promise<void>((r) => {
    helloed = r;
  });
  const answer = (id: string, a: Omit<Answer, "at" | "ms">) => {
    const w = waiting.get(id);
    if (!w) return;
    waiting.delete(id);
    clearTimeout(w.timer);
    const t = performance.now();
    w.done({ ...a, at: performance.timeOrigin + t, ms: t - w.t0 });
  };
  ws.on("message", (raw) => {
    const data = raw as Buffer;
    // `{"type":"events"…`: every gift of the bomb fans out to every socket; skip those without decoding.
    if (data[9] === 0x65 && data[10] === 0x76) {
      fanout.frames++;
      fanout.bytes += data.length;
      return;
    }
    const m = JSON.parse(String(data)) as {
      type: string;
      id?: string;
      code?: string;
      receipt?: { gift_ledger_id: number; replayed: boolean };
    };
    if (m.type === "hello") return helloed();
    if (m.id == null) return;
    if (m.type === "ack")
      answer(String(m.id), {
        ok: true,
        code: "",
        giftId: m.receipt ? String(m.receipt.gift_ledger_id) : undefined,
        replayed: m.receipt?.replayed,
      });
    else answer(String(m.id), { ok: false, code: m.code ?? m.type });
  });
  ws.on("close", () => {
    for (const id of [...waiting.keys()]) answer(id, { ok: false, code: "CLOSED" });
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  ws.on("error", () => {});
  await hello;
  let n = 0;
  const send = (f: Record<string, unknown>) =>
    new Promise<Answer>((done) => {
      const id = `f${n++}`;
      const timer = setTimeout(() => answer(id, { ok: false, code: "TIMEOUT" }), FRAME_TIMEOUT_MS);
      waiting.set(id, { t0: performance.now(), done, timer });
      ws.send(JSON.stringify({ ...f, id }));
    });
  const auth = await send({ type: "auth", token });
  if (!auth.ok) throw new Error(`auth refused: ${auth.code}`);
  return { send, close: () => ws.terminate() };
}

/** Sockets for these users, opened `batch` at a time (the connect storm is not what a row measures). */
async function openSockets(baseUrl: string, streamId: string, userIds: string[], batch: number): Promise<Sock[]> {
  const t0 = performance.now();
  const tokens = await Promise.all(userIds.map((id) => tokenFor(id)));
  const out: Sock[] = [];
  for (let i = 0; i < tokens.length; i += batch)
    out.push(...(await Promise.all(tokens.slice(i, i + batch).map((t) => openSocket(baseUrl, streamId, t)))));
  log(`${out.length} sockets open and authenticated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return out;
}

/**
 * The write path's gift batches so far: calls of app_private.send_gifts (one per group-commit batch) and
 * their execution time, from pg_stat_statements (the server's /metrics is cached for 2 s).
 */
async function giftBatches(c: pg.Client): Promise<{ calls: number; ms: number }> {
  const { rows } = await c.query<{ calls: string; ms: number }>(
    `select coalesce(sum(calls), 0) as calls, coalesce(sum(total_exec_time), 0) as ms
       from pg_stat_statements where toplevel and query ~ 'app_private\\.send_gifts\\(' and query !~* 'pg_stat_statements'`,
  );
  return { calls: Number(rows[0]?.calls ?? 0), ms: Number(rows[0]?.ms ?? 0) };
}

/** Coins by holder: every coin issued is in a wallet, pending (escrow) or the platform's. */
async function coinTotals(c: pg.Client) {
  const { rows } = await c.query<{ wallets: string; pending: string; platform: string; issued: string }>(
    `select (select coalesce(sum(balance), 0) from app_private.wallets) as wallets,
            (select coalesce(sum(coins), 0) from app_private.gift_settlement_queue) as pending,
            (select coalesce(sum(amount), 0) from app_private.coin_entries where account = 'platform') as platform,
            (select coalesce(-sum(amount), 0) from app_private.coin_entries where account = 'issuer') as issued`,
  );
  const r = rows[0];
  const wallets = Number(r?.wallets);
  const pending = Number(r?.pending);
  const platform = Number(r?.platform);
  const issued = Number(r?.issued);
  return { wallets, pending, platform, issued, held: wallets + pending + platform };
}

/** Senders created in one statement each (tests.create_user hashes a password per user: too slow for 10,000). */
async function createSenders(c: pg.Client, prefix: string, n: number, coins: number): Promise<string[]> {
  if (n <= 0) return [];
  const { rows } = await c.query<{ id: string }>(
    `with u as (
       insert into app_public.users (username, display_name)
       select $1 || i, $1 || i from generate_series(1, $2::int) i returning id, username),
     s as (
       insert into app_private.user_secrets (user_id, email, password_hash)
       select id, username || '@test.invalid', (select public.crypt('password', public.gen_salt('bf', 4))) from u)
     select id from u order by substr(username, length($1) + 1)::int`,
    [prefix, n],
  );
  const ids = rows.map((r) => r.id);
  if (coins > 0)
    await c.query("select app_private.issue_coins(id, $2::bigint, 'grant', 'bench:' || id) from unnest($1::uuid[]) id", [ids, coins]);
  return ids;
}

interface Measured {
  answers: Answer[];
  seconds: number;
  serverCpuMs: number;
  dbStatements: number;
  /** Fan-out received by the load generator's sockets meanwhile: `events` frames and MB. */
  frames: number;
  mb: number;
  /** Requests per write-path batch (send_gifts call), and its execution milliseconds (commit not included). */
  batch: number;
  batchMs: number;
}

export async function run(args: string[]): Promise<void> {
  const smoke = args.includes("--smoke");
  const arg = (name: string, full: number, small: number): number => {
    const a = args.find((x) => x.startsWith(`--${name}=`));
    const v = a ? Number(a.slice(name.length + 3)) : smoke ? small : full;
    if (!Number.isFinite(v) || v < 0) throw new Error(`--${name}: not a number`);
    return v;
  };
  const small = arg("small", 50, 50);
  const rounds = arg("rounds", 20, 5);
  const senders = arg("senders", 5000, 500);
  const bigRounds = arg("big-rounds", 2, 1);
  const insfd = arg("insfd", 5000, 500);
  const sockets = arg("sockets", 16, 16);
  const windowSize = arg("window", 16, 16);
  const seconds = arg("seconds", 30, 5);
  const floorSeconds = arg("floor-seconds", 10, 2);
  const naiveClients = arg("naive-clients", 50, 50);
  const naiveRounds = arg("naive-rounds", rounds, rounds);
  const connectBatch = Math.max(1, arg("connect-batch", 250, 250));
  const settleArg = args.find((x) => x.startsWith("--settle-each="))?.slice("--settle-each=".length);
  const settleEach = settleArg ? settleArg !== "off" : !smoke;
  const floorClients = 16;
  const startedAt = new Date();
  const load0 = loadavg();
  const wall0 = performance.now();

  const cluster = await startCluster({ log });
  const rows: MatrixRow[] = [];
  let app: TestApp | null = null;
  let pgVersion = "";
  const open: Sock[] = [];
  try {
    const clusterUrl = cluster.url();
    await setupRoles(clusterUrl, TEST_AUTHENTICATOR_PASSWORD);
    const root = new pg.Client({ connectionString: clusterUrl });
    await root.connect();
    // The test cluster runs with fsync off; every gift here is durable.
    await root.query("alter system set fsync = on");
    await root.query("alter system set synchronous_commit = on");
    await root.query("select pg_reload_conf()");
    pgVersion = (await root.query<{ v: string }>("select version() as v")).rows[0]?.v ?? "";
    await root.end();
    const templateUrl = dbUrl(clusterUrl, TEMPLATE_DB);
    await ensureDatabase(templateUrl);
    await migrateDatabase(templateUrl);
    if (currentMigrationFiles().length) await applyCurrentMigration(templateUrl, log, process.env.TEST_CURRENT?.split(",").filter(Boolean));
    const t = new pg.Client({ connectionString: templateUrl });
    await t.connect();
    await t.query(readFileSync(fileURLToPath(new URL("../../db/test/helpers/tests.sql", import.meta.url)), "utf8"));
    await t.end();
    const db = await cloneDatabase(clusterUrl, "bench");

    // --- the world: one live stream, funded senders, zero-coin senders ------------------------
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const world = await createGiftWorld(pool, { prefix: "bb", casters: 1, senderCoins: [], gifts: [{ slug: "bb-rose", price: PRICE }] });
    await pool.end();
    const caster = world.casters[0];
    const gift = world.gifts[0];
    if (!caster || !gift) throw new Error("world has no stream or gift");
    const adm = new pg.Client({ connectionString: db.url });
    await adm.connect();
    const tw = performance.now();
    const BOMB_COINS = 1_000_000;
    const SUSTAIN_COINS = 100_000_000;
    const bombIds = await createSenders(adm, "bbs", Math.max(small, senders), BOMB_COINS);
    const sustainIds = await createSenders(adm, "bbk", sockets, SUSTAIN_COINS);
    const brokeIds = await createSenders(adm, "bbz", insfd, 0);
    const feeBps = Number((await adm.query<{ v: number }>("select app_private.gift_setting('gift_fee_bps', 2000) as v")).rows[0]?.v);
    const fee = Math.floor((PRICE * feeBps) / 10000);
    log(
      `world: ${bombIds.length} + ${sustainIds.length} funded senders, ${brokeIds.length} with 0 coins, gift ${PRICE} coins (fee ${fee}) in ${((performance.now() - tw) / 1000).toFixed(1)} s`,
    );
    const audit = async () => Number((await adm.query<{ n: string }>("select count(*) as n from app_private.gift_audit()")).rows[0]?.n);

    // --- pgbench floor and the naive baseline, before the server starts -----------------------
    log(`pgbench floor: ${floorClients} clients, ${floorSeconds} s`);
    const floor = await pgbenchFloor(cluster.binDir, db.url, floorClients, floorSeconds);
    log(`pgbench floor: ${floor.tps.toFixed(0)} tps, latency average ${floor.latency} ms`);
    const floorText = `${fmt(floor.tps)} tps (pgbench, ${floorClients} clients)`;
    rows.push(
      matrixRow({
        scenario: "bomb",
        row: "pgbench floor: one-row durable INSERT per transaction",
        load: `${floorClients} clients, ${floorSeconds} s`,
        result: `${fmt(floor.tps)} tps, latency average ${fmt(floor.latency)} ms`,
        budget: "-",
        rate: floor.tps,
        unit: "tps",
        dbStatements: 1,
      }),
    );

    log(`naive baseline: ${naiveClients} clients, one transaction per gift crediting the receiver's wallet row, ${naiveRounds} rounds`);
    await adm.query(`
      create schema bench_naive;
      create table bench_naive.wallets (user_id uuid primary key, balance bigint not null);
      create table bench_naive.coin_transactions (id bigserial primary key, user_id uuid, amount bigint, kind text, created_at timestamptz default now());
      insert into bench_naive.wallets select user_id, balance from app_private.wallets;
      insert into bench_naive.wallets values ('${caster.id}', 0);`);
    const naive = await (async () => {
      const clients = await Promise.all(
        Array.from({ length: naiveClients }, async () => {
          const c = new pg.Client({ connectionString: db.url });
          await c.connect();
          return c;
        }),
      );
      const lat: number[] = [];
      let errors = 0;
      let wall = 0;
      const s0 = await statementCount(adm);
      const one = async (c: pg.Client, w: number) => {
        const sender = c.escapeLiteral(bombIds[w % bombIds.length] ?? "");
        const receiver = c.escapeLiteral(caster.id);
        const s = performance.now();
        try {
          await c.query(
            `begin;
             update bench_naive.wallets set balance = balance - ${PRICE} where user_id = ${sender};
             update bench_naive.wallets set balance = balance + ${PRICE} where user_id = ${receiver};
             insert into bench_naive.coin_transactions (user_id, amount, kind) values (${sender}, -${PRICE}, 'gift'), (${receiver}, ${PRICE}, 'gift');
             commit;`,
          );
          lat.push(performance.now() - s);
        } catch (e) {
          await c.query("rollback").catch(() => {});
          if (errors++ < 3) log(`naive: ${(e as Error).message}`);
        }
      };
      // The same shape as the bomb rows: every client sends one gift at the same moment, round after round.
      for (let r = 0; r < naiveRounds; r++) {
        const t0 = performance.now();
        await Promise.all(clients.map((c, w) => one(c, w)));
        wall += performance.now() - t0;
      }
      const elapsed = wall / 1000;
      const statements = (await statementCount(adm)) - s0;
      await Promise.all(clients.map((c) => c.end()));
      lat.sort((a, b) => a - b);
      return {
        n: lat.length,
        rate: lat.length / elapsed,
        p50: pct(lat, 0.5),
        p99: pct(lat, 0.99),
        errors,
        statements: statements / Math.max(1, lat.length),
      };
    })();
    log(`naive: ${naive.rate.toFixed(0)} gifts/s, p50 ${naive.p50.toFixed(1)} ms, p99 ${naive.p99.toFixed(1)} ms, ${naive.errors} errors`);
    const naiveText = `${fmt(naive.rate)} gifts/s, p99 ${fmt(naive.p99)} ms (${naiveClients} clients, hot receiver row)`;
    rows.push(
      matrixRow({
        scenario: "bomb",
        row: "naive baseline: one durable transaction per gift, receiver's wallet row credited directly",
        load: `${naiveClients} clients × 1 gift at once → 1 receiver, ${naiveRounds} round${naiveRounds === 1 ? "" : "s"}, direct SQL (no server)`,
        result: `${fmt(naive.rate)} gifts/s, p50 ${fmt(naive.p50)} ms, p99 ${fmt(naive.p99)} ms, ${naive.errors} errors`,
        budget: "-",
        rate: naive.rate,
        unit: "gifts/s",
        p50Ms: naive.p50,
        p99Ms: naive.p99,
        dbStatements: naive.statements,
        floor: floorText,
      }),
    );

    // --- the server: production mode, worker settling every 10 s --------------------------------
    app = await startTestApp(
      {
        LOG_LEVEL: "warn",
        RUN_WEB: "false",
        GRAPHILE_ENV: "production",
        NODE_ENV: "production",
        DATABASE_POOL_SIZE: "20",
        // One load generator address opens every socket, and a socket sends faster than a person.
        BROADCAST_MAX_PER_IP: "100000",
        BROADCAST_SEND_RATE: "100000",
      },
      { db },
    );
    const pid = app.proc.pid ?? 0;
    const baseUrl = app.url;
    const held0 = await coinTotals(adm);

    /** Runs `body` with the server's CPU and the cluster's statements counted around it. */
    const measure = async (body: () => Promise<Answer[]>): Promise<Measured> => {
      const w0 = await giftBatches(adm);
      const f0 = { ...fanout };
      const c0 = treeCpu(pid);
      const s0 = await statementCount(adm);
      const t0 = performance.now();
      const answers = await body();
      const secs = (performance.now() - t0) / 1000;
      const cpu = treeCpu(pid) - c0;
      const statements = (await statementCount(adm)) - s0;
      const w1 = await giftBatches(adm);
      const frames = fanout.frames - f0.frames;
      const mb = (fanout.bytes - f0.bytes) / 2 ** 20;
      const n = Math.max(1, answers.length);
      const batches = w1.calls - w0.calls;
      return {
        answers,
        seconds: secs,
        serverCpuMs: (cpu * 1000) / n,
        dbStatements: statements / n,
        frames,
        mb,
        batch: batches ? answers.length / batches : Number.NaN,
        batchMs: batches ? (w1.ms - w0.ms) / batches : Number.NaN,
      };
    };
    /** `socks` each send one gift at the same moment, `n` times (each round waits for every answer). */
    const bomb = async (socks: Sock[], n: number, key: string) => {
      let wall = 0;
      const m = await measure(async () => {
        const all: Answer[] = [];
        for (let r = 0; r < n; r++) {
          const t0 = performance.now();
          all.push(
            ...(await Promise.all(
              socks.map((s, i) => s.send({ type: "gift", gift_id: gift.id, quantity: 1, idempotency_key: `${key}-${r}-${i}` })),
            )),
          );
          wall += performance.now() - t0;
        }
        return all;
      });
      return { ...m, seconds: wall / 1000 };
    };
    const conservedAround = async <T>(f: () => Promise<T>) => {
      const a = await coinTotals(adm);
      const r = await f();
      const b = await coinTotals(adm);
      return { r, conserved: a.held === a.issued && b.held === b.issued && a.issued === b.issued };
    };
    const summarise = (answers: Answer[]) => {
      const ok = answers.filter((a) => a.ok && !a.replayed);
      const codes = new Map<string, number>();
      for (const a of answers) if (!a.ok || a.replayed) codes.set(a.code || "replayed", (codes.get(a.code || "replayed") ?? 0) + 1);
      const lat = answers.map((a) => a.ms).sort((x, y) => x - y);
      return {
        ok,
        errors: answers.length - ok.length,
        codes: [...codes].map(([c, k]) => `${c} ×${k}`).join(", "),
        p50: pct(lat, 0.5),
        p99: pct(lat, 0.99),
        lastAck: ok.reduce((m, a) => Math.max(m, a.at), Number.NEGATIVE_INFINITY),
      };
    };

    /** Until the worker has settled every queued gift (it runs every 10 s; nothing here settles). */
    const waitSettled = async (after: string) => {
      const t0 = performance.now();
      for (;;) {
        const n = Number((await adm.query<{ n: string }>("select count(*) as n from app_private.gift_settlement_queue")).rows[0]?.n);
        if (n === 0) break;
        if (performance.now() - t0 > 120_000) {
          log(`settlement: ${n} gifts still pending 120 s after ${after}`);
          break;
        }
        await sleep(200);
      }
      log(`settlement: queue empty ${((performance.now() - t0) / 1000).toFixed(1)} s after ${after}`);
    };
    const settleNote = settleEach ? "" : "; the next row ran while these settled";

    // --- 1. gift bomb, --small concurrent -------------------------------------------------------
    log(`bomb: ${small} sockets on one stream, ${rounds} rounds`);
    const smallSocks = await openSockets(baseUrl, caster.streamId, bombIds.slice(0, small), connectBatch);
    open.push(...smallSocks);
    const b1 = await conservedAround(() => bomb(smallSocks, rounds, "b1"));
    const s1 = summarise(b1.r.answers);
    log(
      `bomb ${small}: ${(s1.ok.length / b1.r.seconds).toFixed(0)} acks/s, p50 ${s1.p50.toFixed(1)} ms, p99 ${s1.p99.toFixed(1)} ms, ${s1.errors} errors ${s1.codes}`,
    );
    for (const s of smallSocks) s.close();
    open.length = 0;
    if (settleEach) await waitSettled(`the ${small}-sender bomb`);

    // --- 2. gift bomb, --senders concurrent -----------------------------------------------------
    log(`bomb: ${senders} sockets on one stream, ${bigRounds} rounds`);
    const bigSocks = await openSockets(baseUrl, caster.streamId, bombIds.slice(0, senders), connectBatch);
    open.push(...bigSocks);
    const b2 = await conservedAround(() => bomb(bigSocks, bigRounds, "b2"));
    const s2 = summarise(b2.r.answers);
    log(
      `bomb ${senders}: ${(s2.ok.length / b2.r.seconds).toFixed(0)} acks/s, p50 ${s2.p50.toFixed(1)} ms, p99 ${s2.p99.toFixed(1)} ms, ${s2.errors} errors ${s2.codes}`,
    );
    for (const s of bigSocks) s.close();
    open.length = 0;
    if (settleEach) await waitSettled(`the ${senders}-sender bomb`);

    // --- 3. INSFD storm -------------------------------------------------------------------------
    log(`INSFD storm: ${insfd} sockets of senders with 0 coins`);
    const brokeSocks = await openSockets(baseUrl, caster.streamId, brokeIds, connectBatch);
    open.push(...brokeSocks);
    const b3 = await conservedAround(() => bomb(brokeSocks, 1, "b3"));
    const insfdN = b3.r.answers.filter((a) => !a.ok && a.code === "INSFD").length;
    const insfdLat = b3.r.answers.map((a) => a.ms).sort((x, y) => x - y);
    const otherCodes = summarise(b3.r.answers.filter((a) => a.code !== "INSFD")).codes;
    const brokeLedger = Number(
      (await adm.query<{ n: string }>("select count(*) as n from app_private.gift_ledger where sender_id = any($1::uuid[])", [brokeIds]))
        .rows[0]?.n,
    );
    const brokeCoins = Number(
      (
        await adm.query<{ n: string }>("select coalesce(sum(balance), 0) as n from app_private.wallets where user_id = any($1::uuid[])", [
          brokeIds,
        ])
      ).rows[0]?.n,
    );
    log(
      `INSFD storm: ${insfdN}/${brokeIds.length} INSFD, p99 ${pct(insfdLat, 0.99).toFixed(1)} ms, ${brokeLedger} ledger rows ${otherCodes}`,
    );
    for (const s of brokeSocks) s.close();
    open.length = 0;

    // --- 4. sustained ingest while settlement runs ----------------------------------------------
    log(`sustained: ${sockets} sockets × ${windowSize} in flight, ${seconds} s, settlement every 10 s`);
    const sustainSocks = await openSockets(baseUrl, caster.streamId, sustainIds, connectBatch);
    open.push(...sustainSocks);
    let seq = 0;
    const b4 = await conservedAround(() =>
      measure(async () => {
        const all: Answer[] = [];
        const stopAt = performance.now() + seconds * 1000;
        await Promise.all(
          Array.from({ length: sockets * windowSize }, async (_, w) => {
            const s = sustainSocks[w % sockets];
            while (s && performance.now() < stopAt)
              all.push(await s.send({ type: "gift", gift_id: gift.id, quantity: 1, idempotency_key: `b4-${seq++}` }));
          }),
        );
        return all;
      }),
    );
    const s4 = summarise(b4.r.answers);
    const rate4 = s4.ok.length / b4.r.seconds;
    log(
      `sustained: ${rate4.toFixed(0)} gifts/s = ${(rate4 / floor.tps).toFixed(2)}× floor, p50 ${s4.p50.toFixed(1)} ms, p99 ${s4.p99.toFixed(1)} ms, ${s4.errors} errors ${s4.codes}`,
    );
    for (const s of sustainSocks) s.close();
    open.length = 0;

    // --- settlement: wait for the worker to settle everything, then read each gift's batch -----
    await waitSettled("the last row");
    /** Balance lag per acked gift (ack → end of the batch that credited it), for up to `limit` evenly spaced gifts. */
    const lags = async (acked: Answer[], limit = 20_000) => {
      const step = Math.max(1, Math.ceil(acked.length / limit));
      const sample = acked.filter((_, i) => i % step === 0);
      const { rows: r } = await adm.query<{ id: string; settled_ms: number | null }>(
        `select g.id::text, extract(epoch from l.finished_at) * 1000 as settled_ms
           from unnest($1::bigint[]) g(id)
           left join app_private.gift_batch_items i on i.gift_ids @> g.id and i.outcome = 'settled'
           left join app_public.gift_batch_logs l on l.id = i.batch_id`,
        [sample.map((a) => a.giftId)],
      );
      const settled = new Map(r.filter((x) => x.settled_ms != null).map((x) => [x.id, Number(x.settled_ms)]));
      const lag = sample.flatMap((a) => {
        const at = settled.get(a.giftId ?? "");
        return at == null ? [] : [at - a.at];
      });
      lag.sort((a, b) => a - b);
      const lastSettled = [...settled.values()].reduce((m, x) => Math.max(m, x), Number.NEGATIVE_INFINITY);
      // An ack delayed behind the fan-out can arrive after the gift's batch settled: a negative lag.
      const early = lag.filter((x) => x < 0).length;
      return { sampled: sample.length, settled: lag.length, early, p50: pct(lag, 0.5), p99: pct(lag, 0.99), lastSettled };
    };
    // Full sets for the bombs (every gift), a sample for the sustained row.
    const l1 = await lags(s1.ok, Number.POSITIVE_INFINITY);
    const l2 = await lags(s2.ok, Number.POSITIVE_INFINITY);
    const l4 = await lags(s4.ok);
    const allSettledIds = Number(
      (
        await adm.query<{ n: string }>(
          `select count(*) as n from unnest($1::bigint[]) g(id)
            where exists (select 1 from app_private.gift_batch_items i where i.gift_ids @> g.id and i.outcome = 'settled')`,
          [[...s1.ok, ...s2.ok, ...s4.ok].map((a) => a.giftId)],
        )
      ).rows[0]?.n,
    );

    // --- the books: audit, conservation, and the load generator's own bookkeeping -------------
    const violations = await audit();
    const held1 = await coinTotals(adm);
    const acked = s1.ok.length + s2.ok.length + s4.ok.length;
    const { rows: bal } = await adm.query<{ receiver: string; funded: string }>(
      `select (select coalesce(sum(balance), 0) from app_private.wallets where user_id = $1) as receiver,
              (select coalesce(sum(balance), 0) from app_private.wallets where user_id = any($2::uuid[])) as funded`,
      [caster.id, [...bombIds, ...sustainIds]],
    );
    const funded0 = bombIds.length * BOMB_COINS + sustainIds.length * SUSTAIN_COINS;
    // What the ledger holds from these senders: every acked gift, plus any that committed while its
    // ack was lost (a socket the server dropped as a slow consumer, a timeout). The books must match
    // the ledger, and every ack must be in it.
    const committed = Number(
      (
        await adm.query<{ n: string }>("select count(*) as n from app_private.gift_ledger where sender_id = any($1::uuid[])", [
          [...bombIds, ...sustainIds],
        ])
      ).rows[0]?.n,
    );
    const unacked = committed - acked;
    const books = {
      receiver: Number(bal[0]?.receiver) === committed * (PRICE - fee),
      platform: held1.platform - held0.platform === committed * fee,
      senders: Number(bal[0]?.funded) === funded0 - committed * PRICE,
      conserved: held1.held === held1.issued && held1.issued === held0.issued && held1.pending === 0,
    };
    const booksOk = books.receiver && books.platform && books.senders && books.conserved && allSettledIds === acked && unacked >= 0;
    log(
      `books: audit ${violations} rows; ${acked} acked, ${committed} committed, ${allSettledIds} acked and settled; receiver ${books.receiver ? "ok" : "WRONG"}, platform ${books.platform ? "ok" : "WRONG"}, senders ${books.senders ? "ok" : "WRONG"}, conserved ${books.conserved ? "ok" : "WRONG"} (wallets ${held1.wallets} + pending ${held1.pending} + platform ${held1.platform}, issued ${held1.issued})`,
    );
    const booksText = `audit ${violations} rows, coins ${
      booksOk ? "conserved (receiver, platform, senders match the ledger; every ack in it)" : "NOT as the ledger says"
    }${unacked > 0 ? `; ${unacked} gifts committed whose ack never reached the client (dropped or timed-out sockets: a client retries them with the same key)` : ""}`;

    const bombRow = (n: number, r: number, b: typeof b1, s: typeof s1, l: typeof l1) => {
      const rate = s.ok.length / b.r.seconds;
      const settleS = (l.lastSettled - s.lastAck) / 1000;
      const everySettled = l.settled === s.ok.length && s.ok.length > 0;
      return matrixRow({
        scenario: "bomb",
        row: `gift bomb, ${fmt(n, 0)} concurrent senders on one stream (socket \`gift\` frames)`,
        load: `${fmt(n, 0)} sockets × 1 gift at once, ${r} round${r === 1 ? "" : "s"}${settleNote}`,
        result: `${fmt(rate)} acks/s, ${s.errors} errors${s.codes ? ` (${s.codes})` : ""}, ${fmt(b.r.batch)} gifts per batch (send_gifts ${fmt(b.r.batchMs)} ms per call), fan-out during the row ${fmt(b.r.frames, 0)} event frames = ${fmt(b.r.mb)} MB to the sockets; ${everySettled ? "every gift" : `${l.settled}/${s.ok.length} gifts`} settled ${fmt(settleS)} s after the last ack; balance lag p50 ${fmt(l.p50 / 1000)} s, p99 ${fmt(l.p99 / 1000)} s${l.early ? ` (${l.early} settled before their ack arrived)` : ""}; ${booksText}${b.conserved ? "" : "; coins changed during the row"}`,
        budget: "0 errors, every gift settled, balance lag p99 ≤ 11 s, audit empty, coins conserved",
        ok: s.errors === 0 && everySettled && l.p99 <= LAG_BUDGET_MS && violations === 0 && booksOk && b.conserved,
        rate,
        unit: "acks/s",
        p50Ms: s.p50,
        p99Ms: s.p99,
        serverCpuMs: b.r.serverCpuMs,
        dbStatements: b.r.dbStatements,
        naive: naiveText,
      });
    };
    rows.push(bombRow(small, rounds, b1, s1, l1));
    rows.push(bombRow(senders, bigRounds, b2, s2, l2));
    rows.push(
      matrixRow({
        scenario: "bomb",
        row: `INSFD storm: ${fmt(insfd, 0)} senders with 0 coins gift at once`,
        hard: true,
        load: `${fmt(insfd, 0)} sockets × 1 gift at once`,
        result: `${insfdN}/${brokeIds.length} INSFD${otherCodes ? ` (other: ${otherCodes})` : ""}, ${fmt(b3.r.batch)} requests per batch, error answer p99 ${fmt(pct(insfdLat, 0.99))} ms; ${brokeLedger} ledger rows, their wallets hold ${brokeCoins}; ${booksText}${b3.conserved ? "" : "; coins changed during the row"}`,
        budget: "100 % INSFD, 0 ledger rows, audit empty, no coin created or destroyed",
        ok:
          insfdN === brokeIds.length &&
          brokeIds.length > 0 &&
          brokeLedger === 0 &&
          brokeCoins === 0 &&
          violations === 0 &&
          b3.conserved &&
          books.conserved,
        rate: b3.r.answers.length / b3.r.seconds,
        unit: "answers/s",
        p50Ms: pct(insfdLat, 0.5),
        p99Ms: pct(insfdLat, 0.99),
        serverCpuMs: b3.r.serverCpuMs,
        dbStatements: b3.r.dbStatements,
      }),
    );
    const sustainLoad = `${sockets} sockets × ${windowSize} in flight, ${seconds} s, settlement every 10 s`;
    rows.push(
      matrixRow({
        scenario: "bomb",
        row: "sustained gift ingest with settlement running: rate vs the pgbench floor",
        load: sustainLoad,
        result: `${fmt(rate4)} gifts/s = ${fmt(rate4 / floor.tps)}× floor, ${s4.errors} errors${s4.codes ? ` (${s4.codes})` : ""}, ${fmt(b4.r.batch)} gifts per batch (send_gifts ${fmt(b4.r.batchMs)} ms per call), fan-out during the row ${fmt(b4.r.mb)} MB to the sockets`,
        budget: "≥ 1.0× floor, 0 errors",
        ok: rate4 / floor.tps >= 1 && s4.errors === 0,
        rate: rate4,
        unit: "gifts/s",
        p50Ms: s4.p50,
        p99Ms: s4.p99,
        serverCpuMs: b4.r.serverCpuMs,
        dbStatements: b4.r.dbStatements,
        floor: floorText,
      }),
    );
    const every4 = l4.settled === l4.sampled && l4.sampled > 0;
    rows.push(
      matrixRow({
        scenario: "bomb",
        row: "sustained gift ingest with settlement running: balance lag (ack → settled)",
        load: sustainLoad,
        result: `balance lag p50 ${fmt(l4.p50 / 1000)} s, p99 ${fmt(l4.p99 / 1000)} s (${fmt(l4.sampled, 0)} of ${fmt(s4.ok.length, 0)} gifts sampled, ${every4 ? "all" : `${l4.settled}`} settled); ${booksText}${b4.conserved ? "" : "; coins changed during the row"}`,
        budget: "balance lag p99 ≤ 11 s, every gift settled, audit empty",
        ok: every4 && l4.p99 <= LAG_BUDGET_MS && violations === 0 && booksOk && b4.conserved,
        p50Ms: l4.p50,
        p99Ms: l4.p99,
      }),
    );
    await adm.end();
  } finally {
    for (const s of open) s.close();
    await app?.stop();
    await cluster.stop();
  }

  emitRows(rows);
  const wall = (performance.now() - wall0) / 1000;
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
  const la = (l: number[]) => l.map((x) => x.toFixed(2)).join(" ");
  console.log(
    `\nGift bombs on one stream${smoke ? " (smoke sizes)" : ""}: ${startedAt.toISOString()}, ${machine}, ${pgVersion.split(" on ")[0]}, Node ${process.version}`,
  );
  console.log(
    `fsync on, synchronous_commit on; load average ${la(load0)} at the start, ${la(loadavg())} at the end; ${wall.toFixed(0)} s wall\n`,
  );
  console.log(
    "| row | load | result | budget | verdict | rate | p50 (ms) | p99 (ms) | server CPU/op (ms) | statements/op | naive | floor |",
  );
  console.log("| --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |");
  for (const r of rows)
    console.log(
      `| ${r.row} | ${r.load} | ${r.result} | ${r.budget} | ${r.verdict} | ${r.rate == null ? "-" : `${fmt(r.rate)} ${r.unit ?? ""}`} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${fmt(r.serverCpuMs, 3)} | ${fmt(r.dbStatements)} | ${r.naive ?? "-"} | ${r.floor ?? "-"} |`,
    );
}
