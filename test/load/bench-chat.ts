// `npm run bench chat [--seconds=3] [--senders=2000] [--concurrency=8] [--viewers=1000] [--gql=200]
//   [--rate=100] [--fanout-seconds=10] [--processes=2] [--relay-tick-ms=75] [--naive-viewers=100]
//   [--sample=200] [--gql-sample=100] [--drain-ms=1000] [--lazy=off] [--deflate=off] [--max-buffer-bytes=N]
//   [--skip=ingest,fanout] [--skip-naive] [--graphile-env=development]`
// The server runs as in production (GRAPHILE_ENV=production, NODE_ENV=production) unless told.
// Loopback only; every phase is bounded in time and stops by itself.
//   (a) chat accepted/s: app_public.send_chat_message via SQL (one statement per message, claims set
//       in the same statement) and via GraphQL over HTTP; naive: the old design, a durable INSERT
//       with a NOTIFY in the same transaction.
//   (b) fan-out: --viewers broadcast sockets on one stream (server in --processes processes) while
//       --rate msgs/s are sent for --fanout-seconds: delivery ratio, p50/p99 latency (send → receive),
//       server CPU and memory; the same for --gql GraphQL streamEvents subscribers. Naive: per-message
//       NOTIFY and one profile query per viewer per message (N+1), at --naive-viewers.
// Viewers: --sample sockets (--gql-sample subscribers), spread evenly over the connection order, are
// read eagerly and parse every message: the latency percentiles come from them. The rest emulate
// remote viewers whose receive cost is off this box (issue 5): raw sockets in a worker thread
// (fanout-viewers.ts), read once every --drain-ms, each frame parsed once for all sockets; every
// delivery is still counted and each socket is checked to have received every message id once
// ("complete sockets"). --lazy=off: the generator used before (every socket a ws client on the main
// thread). Full scale: --viewers=10000 --gql=1000.

import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { createClient } from "graphql-ws";
import pg from "pg";
import WebSocket from "ws";
import { applyCurrentMigration, currentMigrationFiles, ensureDatabase, migrateDatabase, setupRoles } from "../../db/tools.ts";
import { startTestApp, type TestApp } from "../support/app.ts";
import { type Cluster, startCluster } from "../support/cluster.ts";
import { cloneDatabase, dbUrl, TEMPLATE_DB, TEST_AUTHENTICATOR_PASSWORD, type TestDatabase } from "../support/testdb.ts";
import type { ViewerStats, ViewerWorkerData } from "./fanout-viewers.ts";
import { emitRows, fmt, matrixRow } from "./matrix-row.ts";

export function arg(args: string[], name: string, def: number): number {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split("=")[1]) : def;
}
export const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)] ?? Number.NaN;
export const log = (m: string) => console.error(`  ${m}`);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A throwaway cluster with a migrated template, one cloned database, pg_stat_statements on. */
export async function benchDatabase(): Promise<{ cluster: Cluster; db: TestDatabase }> {
  const cluster = await startCluster({ log });
  const clusterUrl = cluster.url();
  await setupRoles(clusterUrl, TEST_AUTHENTICATOR_PASSWORD);
  const templateUrl = dbUrl(clusterUrl, TEMPLATE_DB);
  await ensureDatabase(templateUrl);
  await migrateDatabase(templateUrl);
  if (currentMigrationFiles().length) await applyCurrentMigration(templateUrl, log, process.env.TEST_CURRENT?.split(",").filter(Boolean));
  const c = new pg.Client({ connectionString: templateUrl });
  await c.connect();
  // The throwaway cluster runs with fsync off; durability is what the baselines pay for, so turn it on.
  await c.query("alter system set fsync = on");
  await c.query("alter system set full_page_writes = on");
  await c.query("select pg_reload_conf()");
  await c.query("create extension if not exists pg_stat_statements");
  await c.query(readFileSync(fileURLToPath(new URL("../../db/test/helpers/tests.sql", import.meta.url)), "utf8"));
  await c.end();
  return { cluster, db: await cloneDatabase(clusterUrl, "bench") };
}

/** Users (cheap passwords) and a live stream, created directly as the owner. */
export async function fixtures(dbUrlStr: string, senders: number) {
  const c = new pg.Client({ connectionString: dbUrlStr });
  await c.connect();
  try {
    const host = (await c.query<{ id: string }>("select tests.create_user('bench_host', 'broadcaster') as id")).rows[0]?.id as string;
    await c.query(
      `insert into app_public.users (username, display_name, avatar_url, vehicle_status)
       select 'sender' || i, 'Sender ' || i, 'https://cdn.example/a/' || i || '.png', 'Ride ' || (i % 7)
         from generate_series(1, $1) i`,
      [senders],
    );
    const ids = (await c.query<{ id: string }>("select id from app_public.users where username like 'sender%' order by username")).rows.map(
      (r) => r.id,
    );
    const stream = (
      await c.query<{ id: string }>("insert into app_public.streams (broadcaster_id, title) values ($1, 'Bench show') returning id", [host])
    ).rows[0]?.id as string;
    return { host, ids, stream };
  } finally {
    await c.end();
  }
}

/** CPU seconds and RSS of a process and its children (cluster workers), from /proc. */
export function processTree(pid: number): { cpu: number; sys: number; rssMb: number } {
  const pids = [pid];
  try {
    for (const p of readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean)) pids.push(Number(p));
  } catch {}
  let cpu = 0;
  let sys = 0;
  let rss = 0;
  for (const p of pids) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      cpu += (Number(f[11]) + Number(f[12])) / 100;
      sys += Number(f[12]) / 100;
      rss += (Number(f[21]) * 4096) / 1048576;
    } catch {}
  }
  return { cpu, sys, rssMb: rss };
}

interface Rate {
  name: string;
  ok: number;
  limited: number;
  errors: number;
  seconds: number;
  lat: number[];
}

async function timed(name: string, seconds: number, concurrency: number, one: (i: number) => Promise<"ok" | "limited">): Promise<Rate> {
  const lat: number[] = [];
  let ok = 0;
  let limited = 0;
  let errors = 0;
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        try {
          const r = await one(n++);
          lat.push(performance.now() - s);
          if (r === "ok") ok++;
          else limited++;
        } catch {
          errors++;
        }
      }
    }),
  );
  lat.sort((a, b) => a - b);
  return { name, ok, limited, errors, seconds: (performance.now() - t0) / 1000, lat };
}

/** The old design's durable chat table (both phases use it; either may run alone). */
async function createNaiveTable(db: TestDatabase) {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    await c.query(
      "create table if not exists public.naive_messages (id bigserial primary key, stream_id uuid, user_id uuid, body text, created_at timestamptz default now())",
    );
  } finally {
    await c.end();
  }
}

async function ingest(args: string[], db: TestDatabase, app: TestApp, fx: Awaited<ReturnType<typeof fixtures>>) {
  const seconds = arg(args, "seconds", 3);
  const concurrency = arg(args, "concurrency", 8);
  const pool = new pg.Pool({ connectionString: db.url, max: concurrency });
  await createNaiveTable(db);
  const claims = fx.ids.map((id) => JSON.stringify({ role: "authenticated", sub: id }));
  const reset = () => pool.query("truncate app_private.chat_rate_buckets");
  const results: Rate[] = [];
  await reset();
  log("measuring chat via SQL");
  results.push(
    await timed("ours: send_chat_message via SQL", seconds, concurrency, async (i) => {
      try {
        await pool.query("select app_public.send_chat_message($2, $3) from (select set_config('request.jwt.claims', $1, true)) s", [
          claims[i % claims.length],
          fx.stream,
          `bench message ${i}`,
        ]);
        return "ok";
      } catch (e) {
        if ((e as { code?: string }).code === "RATEL") return "limited";
        throw e;
      }
    }),
  );
  log("measuring the naive durable insert + NOTIFY");
  results.push(
    await timed("naive: durable INSERT + NOTIFY per message", seconds, concurrency, async (i) => {
      await pool.query(
        "with m as (insert into public.naive_messages (stream_id, user_id, body) values ($1, $2, $3) returning id) select pg_notify('naive_chat', (select id::text from m))",
        [fx.stream, fx.ids[i % fx.ids.length], `bench message ${i}`],
      );
      return "ok";
    }),
  );
  await reset();
  // GraphQL: tokens signed in SQL, as login would.
  const tokens = (await pool.query<{ t: string }>("select app_private.sign_jwt(id) as t from unnest($1::uuid[]) id", [fx.ids])).rows.map(
    (r) => r.t,
  );
  const mutation = "mutation($s: UUID!, $b: String!) { sendChatMessage(input: {streamId: $s, body: $b}) { result { rowId } } }";
  log("measuring chat via GraphQL");
  results.push(
    await timed("ours: sendChatMessage via GraphQL/HTTP", seconds, concurrency * 2, async (i) => {
      const res = await fetch(`${app.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${tokens[i % tokens.length]}` },
        body: JSON.stringify({ query: mutation, variables: { s: fx.stream, b: `gql message ${i}` } }),
      });
      const body = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
      if (body.errors?.[0]?.extensions?.code === "RATEL") return "limited";
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return "ok";
    }),
  );
  await pool.end();
  console.log(
    `\n(a) Chat accepted: ${seconds} s per variant, ${fx.ids.length} senders (rate limit 1/s, burst 5 each), concurrency ${concurrency}\n`,
  );
  console.log("| variant | accepted | rate limited | errors | accepted/s | p50 (ms) | p99 (ms) |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of results)
    console.log(
      `| ${r.name} | ${r.ok} | ${r.limited} | ${r.errors} | ${(r.ok / r.seconds).toFixed(0)} | ${pct(r.lat, 0.5).toFixed(1)} | ${pct(r.lat, 0.99).toFixed(1)} |`,
    );
  const naive = results.find((r) => r.name.startsWith("naive"));
  emitRows(
    results
      .filter((r) => !r.name.startsWith("naive"))
      .map((r) =>
        matrixRow({
          scenario: "chat",
          row: `chat accepted, ${r.name}`,
          load: `${fx.ids.length} senders (1/s, burst 5 each), concurrency ${concurrency}, ${seconds} s`,
          result: `${fmt(r.ok / r.seconds)} msgs/s, ${r.limited} rate limited, ${r.errors} errors`,
          budget: "-",
          rate: r.ok / r.seconds,
          unit: "msgs/s",
          p50Ms: pct(r.lat, 0.5),
          p99Ms: pct(r.lat, 0.99),
          naive: naive
            ? `${fmt(naive.ok / naive.seconds)} msgs/s, p99 ${pct(naive.lat, 0.99).toFixed(1)} ms (durable INSERT + NOTIFY)`
            : undefined,
        }),
      ),
  );
}

interface Fanout {
  name: string;
  viewers: number;
  expected: number;
  delivered: number;
  /** Sockets that received every message exactly once. */
  complete: number;
  /** Sockets the latency percentiles come from. */
  sampled: number;
  lat: number[];
  cpu: number;
  rssMb: number;
  /** CPU of this process (the load generator, worker threads included) and of the whole machine. */
  genCpu: number;
  machineCpu: number;
  sys?: string;
  queries?: number;
  note?: string;
}

// The relay builds events with json_build_object, whose text form is `"kind" : "chat"`.
const CHAT_MARK = Buffer.from('"kind" : "chat"');
function countMarks(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(CHAT_MARK); i !== -1; i = buf.indexOf(CHAT_MARK, i + CHAT_MARK.length)) n++;
  return n;
}

/** Busy CPU seconds of the whole machine (all cores), from /proc/stat. */
function machineBusy(): number {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  const total = f.reduce((a, b) => a + b, 0);
  return (total - (f[3] ?? 0) - (f[4] ?? 0)) / 100;
}

/** Kernel memory held by TCP buffers (all sockets of the machine), MB, from /proc/net/sockstat. */
function tcpMemMb(): number {
  const m = /TCP:.* mem (\d+)/.exec(readFileSync("/proc/net/sockstat", "utf8"));
  return m ? (Number(m[1]) * 4096) / 1048576 : Number.NaN;
}

/** Highest TCP buffer memory while `p` runs, sampled every 200 ms. */
async function watchTcpMem<T>(p: Promise<T>): Promise<[T, number]> {
  let max = tcpMemMb();
  const t = setInterval(() => {
    max = Math.max(max, tcpMemMb());
  }, 200);
  try {
    return [await p, max];
  } finally {
    clearInterval(t);
  }
}

/** CPU counters of the server tree, this process and the machine; `rates(since)` turns two into cores. */
function cpuSnapshot(pid: number) {
  return { t: performance.now(), server: processTree(pid), gen: process.cpuUsage(), machine: machineBusy() };
}
function rates(a: ReturnType<typeof cpuSnapshot>, b: ReturnType<typeof cpuSnapshot>) {
  const s = (b.t - a.t) / 1000;
  return {
    cpu: (b.server.cpu - a.server.cpu) / s,
    rssMb: b.server.rssMb,
    genCpu: (b.gen.user + b.gen.system - a.gen.user - a.gen.system) / 1e6 / s,
    /** Kernel share of the server's and the generator's CPU. */
    sys: `server ${((b.server.sys - a.server.sys) / s).toFixed(2)}, generator ${((b.gen.system - a.gen.system) / 1e6 / s).toFixed(2)} cores in the kernel`,
    machineCpu: (b.machine - a.machine) / s,
  };
}

/** Send `rate` msgs/s for `seconds` as the broadcaster (exempt from the rate limit); the body is the send time. */
async function sendLoad(db: TestDatabase, fx: { host: string; stream: string }, rate: number, seconds: number): Promise<number> {
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  const claims = JSON.stringify({ role: "authenticated", sub: fx.host });
  let sent = 0;
  const total = Math.round(rate * seconds);
  const t0 = performance.now();
  const inflight: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inflight.push(
      pool
        .query("select app_public.send_chat_message($2, $3) from (select set_config('request.jwt.claims', $1, true)) s", [
          claims,
          fx.stream,
          `t=${Date.now()}`,
        ])
        .then(() => sent++),
    );
    if (inflight.length > 64) await Promise.all(inflight.splice(0));
  }
  await Promise.all(inflight);
  await pool.end();
  return sent;
}

/** Lazily read viewers in a worker thread (test/load/fanout-viewers.ts). */
function lazyViewers(data: ViewerWorkerData) {
  const worker = new Worker(new URL("./fanout-viewers.ts", import.meta.url), { workerData: data });
  let failure: Error | null = null;
  worker.on("error", (e) => {
    failure = e;
    log(`viewer worker failed: ${e.message}`);
  });
  const call = <T>(msg: { cmd: string; n?: number; sent?: number }) =>
    new Promise<T>((resolve, reject) => {
      if (failure) return reject(failure);
      const on = (m: { cmd: string } & T) => {
        if (m.cmd !== msg.cmd) return;
        worker.off("message", on);
        worker.off("error", reject);
        resolve(m);
      };
      worker.on("message", on);
      worker.once("error", reject);
      worker.postMessage(msg);
    });
  return {
    connect: async (n: number) => (n > 0 ? (await call<{ open: number }>({ cmd: "connect", n })).open : 0),
    finish: async (sent: number) => (await call<{ stats: ViewerStats }>({ cmd: "finish", sent })).stats,
    close: async () => {
      await call({ cmd: "close" });
      await worker.terminate();
    },
  };
}

/** Connect `total` viewers in rounds of 200, `sampled` of them eager and spread evenly over the rounds. */
async function connectSpread(
  total: number,
  sampled: number,
  lazyConnect: (n: number) => Promise<number>,
  eagerConnect: (n: number) => Promise<number>,
): Promise<{ lazyOpen: number; eagerOpen: number }> {
  let lazyOpen = 0;
  let eagerOpen = 0;
  const isSample = (i: number) => Math.floor(((i + 1) * sampled) / total) > Math.floor((i * sampled) / total);
  for (let i = 0; i < total; i += 200) {
    let s = 0;
    const end = Math.min(total, i + 200);
    for (let j = i; j < end; j++) if (isSample(j)) s++;
    const [l, e] = await Promise.all([lazyConnect(end - i - s), eagerConnect(s)]);
    lazyOpen += l;
    eagerOpen += e;
    await sleep(20);
  }
  return { lazyOpen, eagerOpen };
}

async function fanout(args: string[], db: TestDatabase, app: TestApp, fx: Awaited<ReturnType<typeof fixtures>>): Promise<Fanout[]> {
  const viewers = arg(args, "viewers", 1000);
  const gqlSubs = arg(args, "gql", 200);
  const rate = arg(args, "rate", 100);
  const seconds = arg(args, "fanout-seconds", 10);
  const naiveViewers = arg(args, "naive-viewers", 100);
  const lazy = !args.includes("--lazy=off");
  const sampleN = Math.min(arg(args, "sample", lazy ? 200 : 100), viewers);
  const gqlSampleN = Math.min(arg(args, "gql-sample", 100), gqlSubs);
  const drainMs = arg(args, "drain-ms", 1000);
  // Viewers offer permessage-deflate as browsers do (--deflate=off: they do not).
  const deflate = !args.includes("--deflate=off");
  const wsUrl = `${app.url.replace(/^http/, "ws")}`;
  const { hostname: host, port } = new URL(app.url);
  const out: Fanout[] = [];
  const pid = app.proc.pid as number;

  // Broadcast sockets: `sampleN` eager ones parse every message (latency); the rest are read lazily
  // in a worker thread and verified there (--lazy=off: the rest are ws clients on this thread that
  // count chat marks in every frame, the generator used before).
  log(
    `connecting ${viewers} broadcast sockets (${sampleN} eager, ${lazy ? `the rest read every ${drainMs} ms in a worker` : "the rest count marks"})`,
  );
  const path = `/broadcast?stream=${fx.stream}`;
  let delivered = 0;
  let countedByMarks = 0;
  const lat: number[] = [];
  const sockets: WebSocket[] = [];
  const perSample: number[] = [];
  const openWs = (full: boolean) =>
    new Promise<number>((resolve) => {
      const ws = new WebSocket(`${wsUrl}${path}`, { perMessageDeflate: deflate, skipUTF8Validation: true });
      const idx = full ? perSample.push(0) - 1 : -1;
      let hello = false;
      ws.on("message", (data: Buffer) => {
        if (!hello) {
          hello = true;
          resolve(1);
        }
        if (full) {
          const now = Date.now();
          const msg = JSON.parse(data.toString()) as { type: string; events?: { kind: string; payload?: { body?: string } }[] };
          for (const e of msg.events ?? [])
            if (e.kind === "chat" && e.payload?.body?.startsWith("t=")) {
              delivered++;
              perSample[idx] = (perSample[idx] ?? 0) + 1;
              lat.push(now - Number(e.payload.body.slice(2)));
            }
        } else countedByMarks += countMarks(data);
      });
      ws.on("error", () => resolve(0));
      ws.on("close", () => resolve(0));
      sockets.push(ws);
    });
  const eagerConnect = async (n: number) => (await Promise.all(Array.from({ length: n }, () => openWs(true)))).reduce((a, b) => a + b, 0);
  const pool = lazy ? lazyViewers({ host, port: Number(port), path, protocol: "broadcast", drainMs, deflate }) : null;
  const lazyConnect = pool
    ? pool.connect
    : async (n: number) => (await Promise.all(Array.from({ length: n }, () => openWs(false)))).reduce((a, b) => a + b, 0);
  const { lazyOpen, eagerOpen } = await connectSpread(viewers, sampleN, lazyConnect, eagerConnect);
  const open = lazyOpen + eagerOpen;
  log(`${open} sockets open; sending ${rate} msgs/s for ${seconds} s`);
  await sleep(1500);
  delivered = 0;
  countedByMarks = 0;
  perSample.fill(0);
  let before = cpuSnapshot(pid);
  let [sent, tcpMax] = await watchTcpMem(
    sendLoad(db, fx, rate, seconds).then(async (n) => {
      await sleep(2000);
      return n;
    }),
  );
  let after = cpuSnapshot(pid);
  const lazyStats = pool ? await pool.finish(sent) : null;
  lat.sort((a, b) => a - b);
  const sampleComplete = perSample.filter((n) => n === sent).length;
  out.push({
    name: "ours: broadcast socket",
    viewers: open,
    expected: sent * open,
    delivered: delivered + (lazyStats ? lazyStats.delivered : countedByMarks),
    complete: lazyStats ? sampleComplete + (lazyStats.distinctIds === sent ? lazyStats.complete : 0) : Number.NaN,
    sampled: sampleN,
    lat: [...lat],
    ...rates(before, after),
    note: lazyStats
      ? `load average ${(loadavg()[0] ?? 0).toFixed(1)}, TCP buffers up to ${tcpMax.toFixed(0)} MB; lazy sockets: ${lazyStats.open}/${lazyStats.sockets} open at the end, ${lazyStats.distinctIds} distinct ids of ${sent} sent, per-socket count ${lazyStats.minCount}–${lazyStats.maxCount}, ${lazyStats.frames} frames (${lazyStats.deflated} deflated, ${(lazyStats.bytes / 1048576).toFixed(0)} MB), out of order ${lazyStats.outOfOrder}, mismatched ${lazyStats.mismatched}, unsupported ${lazyStats.unsupported}, longest unread gap ${lazyStats.maxGapMs.toFixed(0)} ms, final read ${lazyStats.finalDrainMs.toFixed(0)} ms`
      : undefined,
  });
  for (const ws of sockets) ws.terminate();
  await pool?.close();
  await sleep(1000);

  // GraphQL subscribers: `gqlSampleN` graphql-ws clients parse every message (latency); the rest
  // speak graphql-ws from the worker thread and are read lazily the same way.
  if (gqlSubs > 0) {
    const query = "subscription($s: UUID!) { streamEvents(streamId: $s) { events { id kind at payload } } }";
    log(`subscribing ${gqlSubs} GraphQL clients (${gqlSampleN} eager)`);
    let gDelivered = 0;
    const gLat: number[] = [];
    const gPer: number[] = [];
    const clients: ReturnType<typeof createClient>[] = [];
    const gPool = lazy
      ? lazyViewers({
          host,
          port: Number(port),
          path: "/graphql",
          protocol: "graphql",
          subscribe: { query, variables: { s: fx.stream } },
          drainMs,
        })
      : null;
    const subscribeOne = () => {
      const idx = gPer.push(0) - 1;
      const client = createClient({ url: `${wsUrl}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
      clients.push(client);
      client.subscribe<{ streamEvents: { events: { kind: string; payload: { body?: string } | null }[] } }>(
        { query, variables: { s: fx.stream } },
        {
          next: (msg) => {
            const now = Date.now();
            for (const e of msg.data?.streamEvents.events ?? [])
              if (e.kind === "chat" && e.payload?.body?.startsWith("t=")) {
                gDelivered++;
                gPer[idx] = (gPer[idx] ?? 0) + 1;
                gLat.push(now - Number(e.payload.body.slice(2)));
              }
          },
          error: () => {},
          complete: () => {},
        },
      );
      return 1;
    };
    const eagerN = gPool ? gqlSampleN : gqlSubs;
    const started = await connectSpread(gqlSubs, eagerN, gPool ? gPool.connect : async () => 0, async (n) => {
      for (let i = 0; i < n; i++) subscribeOne();
      return n;
    });
    const subs = started.lazyOpen + started.eagerOpen;
    await sleep(3000);
    gDelivered = 0;
    gLat.length = 0;
    gPer.fill(0);
    before = cpuSnapshot(pid);
    [sent, tcpMax] = await watchTcpMem(
      sendLoad(db, fx, rate, seconds).then(async (n) => {
        await sleep(2000);
        return n;
      }),
    );
    after = cpuSnapshot(pid);
    const gStats = gPool ? await gPool.finish(sent) : null;
    gLat.sort((a, b) => a - b);
    out.push({
      name: "ours: GraphQL streamEvents",
      viewers: subs,
      expected: sent * subs,
      delivered: gDelivered + (gStats?.delivered ?? 0),
      complete: gPer.filter((n) => n === sent).length + (gStats && gStats.distinctIds === sent ? gStats.complete : 0),
      sampled: eagerN,
      lat: gLat,
      ...rates(before, after),
      note: gStats
        ? `load average ${(loadavg()[0] ?? 0).toFixed(1)}, TCP buffers up to ${tcpMax.toFixed(0)} MB; lazy subscribers: ${gStats.open}/${gStats.sockets} open at the end, ${gStats.distinctIds} distinct ids of ${sent} sent, per-socket count ${gStats.minCount}–${gStats.maxCount}, out of order ${gStats.outOfOrder}, mismatched ${gStats.mismatched}, unsupported ${gStats.unsupported}, longest unread gap ${gStats.maxGapMs.toFixed(0)} ms, final read ${gStats.finalDrainMs.toFixed(0)} ms`
        : undefined,
    });
    await Promise.all(clients.map((c) => c.dispose()));
    await gPool?.close();
  }

  // Naive: NOTIFY per message, every viewer fetches the sender's profile per message (N+1).
  if (args.includes("--skip-naive")) return report(args, out, rate, seconds);
  log(`naive baseline: ${naiveViewers} viewers, one profile query each per message`);
  const listenC = new pg.Client({ connectionString: db.url });
  await listenC.connect();
  await listenC.query("listen naive_chat");
  const qpool = new pg.Pool({ connectionString: db.url, max: 20 });
  let nDelivered = 0;
  let queries = 0;
  const nLat: number[] = [];
  listenC.on("notification", (msg) => {
    const { user_id: userId, sent_at: sentAt } = JSON.parse(msg.payload ?? "{}") as { user_id: string; sent_at: number };
    for (let v = 0; v < naiveViewers; v++) {
      queries++;
      qpool
        .query("select display_name, avatar_url, vehicle_status from app_public.users where id = $1", [userId])
        .then(() => {
          nDelivered++;
          nLat.push(Date.now() - sentAt);
        })
        .catch(() => {});
    }
  });
  await createNaiveTable(db);
  const npool = new pg.Pool({ connectionString: db.url, max: 4 });
  const total = Math.round(rate * seconds);
  before = cpuSnapshot(pid);
  const t0 = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(
      npool.query(
        "with m as (insert into public.naive_messages (stream_id, user_id, body) values ($1, $2, 'x') returning id) select pg_notify('naive_chat', json_build_object('user_id', $2::text, 'sent_at', $3::bigint)::text) from m",
        [fx.stream, fx.host, Date.now()],
      ),
    );
  }
  await Promise.all(pending);
  const deadline = Date.now() + 5000;
  while (nDelivered < total * naiveViewers && Date.now() < deadline) await sleep(100);
  nLat.sort((a, b) => a - b);
  out.push({
    name: "naive: NOTIFY per message + profile query per viewer",
    viewers: naiveViewers,
    expected: total * naiveViewers,
    delivered: nDelivered,
    complete: Number.NaN,
    sampled: naiveViewers,
    lat: nLat,
    ...rates(before, cpuSnapshot(pid)),
    cpu: Number.NaN,
    rssMb: Number.NaN,
    queries,
  });
  await listenC.end();
  await qpool.end();
  await npool.end();

  return report(args, out, rate, seconds);
}

function report(args: string[], out: Fanout[], rate: number, seconds: number): Fanout[] {
  console.log(
    `\n(b) Fan-out: one stream, ${rate} msgs/s for ${seconds} s, server in ${arg(args, "processes", 2)} processes, relay tick ${arg(args, "relay-tick-ms", 75)} ms (loopback; latency from the eager sockets, ${args.includes("--lazy=off") ? "the rest count chat marks on the same thread" : "the rest read lazily in a worker thread and verified per socket"})\n`,
  );
  console.log(
    "| variant | viewers | delivered / expected | delivery | complete sockets | latency sample | p50 (ms) | p99 (ms) | server CPU (cores) | server RSS (MB) | generator CPU (cores) | machine CPU (cores) | viewer queries |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  const f = (n: number, d = 2) => (Number.isNaN(n) ? "—" : n.toFixed(d));
  for (const r of out)
    console.log(
      `| ${r.name} | ${r.viewers} | ${r.delivered} / ${r.expected} | ${((100 * r.delivered) / Math.max(1, r.expected)).toFixed(2)}% | ${f(r.complete, 0)} | ${r.sampled} | ${pct(r.lat, 0.5).toFixed(0)} | ${pct(r.lat, 0.99).toFixed(0)} | ${f(r.cpu)} | ${f(r.rssMb, 0)} | ${f(r.genCpu)} | ${f(r.machineCpu)} | ${r.queries ?? 0} |`,
    );
  for (const r of out) if (r.note) console.log(`\n${r.name}: ${r.sys}; ${r.note}`);
  const naive = out.find((r) => r.name.startsWith("naive"));
  const naiveText = naive
    ? `${naive.viewers} viewers: ${((100 * naive.delivered) / Math.max(1, naive.expected)).toFixed(1)} % delivered, p99 ${pct(naive.lat, 0.99).toFixed(0)} ms, ${naive.queries ?? 0} profile queries`
    : undefined;
  emitRows(
    out
      .filter((r) => r.name.startsWith("ours"))
      .map((r) => {
        const p99 = pct(r.lat, 0.99);
        const all = r.delivered === r.expected && (Number.isNaN(r.complete) || r.complete === r.viewers);
        return matrixRow({
          scenario: "chat",
          row: `fan-out, ${r.name.replace(/^ours: /, "")}`,
          load: `${r.viewers.toLocaleString("en")} viewers on one stream, ${rate} msgs/s for ${seconds} s`,
          result: `${((100 * r.delivered) / Math.max(1, r.expected)).toFixed(2)} % of ${r.expected.toLocaleString("en")} delivered, ${r.queries ?? 0} viewer queries, server ${r.cpu.toFixed(2)} cores`,
          budget: "every viewer gets every message, p99 < 500 ms, 0 queries per viewer",
          ok: all && p99 < 500 && (r.queries ?? 0) === 0,
          rate: r.expected / seconds,
          unit: "deliveries/s",
          p50Ms: pct(r.lat, 0.5),
          p99Ms: p99,
          naive: naiveText,
        });
      }),
  );
  return out;
}

export async function run(args: string[]): Promise<void> {
  const skip = new Set((args.find((a) => a.startsWith("--skip="))?.slice(7) ?? "").split(",").filter(Boolean));
  const { cluster, db } = await benchDatabase();
  let app: TestApp | null = null;
  try {
    const fx = await fixtures(db.url, arg(args, "senders", 2000));
    app = await startTestApp(
      {
        LOG_LEVEL: "error",
        RUN_WEB: "false",
        // As `npm start` runs it (test/support/app.ts defaults to development mode).
        GRAPHILE_ENV: args.includes("--graphile-env=development") ? "development" : "production",
        NODE_ENV: "production",
        WEB_CONCURRENCY: String(arg(args, "processes", 2)),
        BROADCAST_MAX_PER_IP: "1000000",
        // The load generator is one address: the per-address cap of GraphQL websockets too.
        GRAPHQL_WS_MAX_PER_ADDRESS: "1000000",
        DATABASE_POOL_SIZE: "20",
        RELAY_TICK_MS: String(arg(args, "relay-tick-ms", 75)),
        // The server's slow-consumer threshold (default 1 MiB unsent per socket, on top of what the
        // kernel buffers); lazily read viewers stay far below it at the default --drain-ms.
        ...(args.some((a) => a.startsWith("--max-buffer-bytes="))
          ? { BROADCAST_MAX_BUFFER_BYTES: String(arg(args, "max-buffer-bytes", 0)) }
          : {}),
      },
      { db },
    );
    await sleep(2000); // every process listening
    if (!skip.has("ingest")) await ingest(args, db, app, fx);
    if (!skip.has("fanout")) await fanout(args, db, app, fx);
  } finally {
    await app?.stop();
    await db.drop();
    await cluster.stop();
  }
}
