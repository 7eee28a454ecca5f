// `npm run bench graphql [--seconds=4] [--warmup=1] [--concurrency=16] [--processes=1]
//   [--graphile-env=production|development] [--node-env=production|test] [--only=gift,chat,query,healthz]
//   [--fsync=on|off] [--cpu-prof=<dir>] [--rounds=1] [--against=<another checkout>]`
// The per-request cost of the GraphQL API on the real server (started by startTestApp on a throwaway
// cluster, like the GraphQL part of `bench gifts`): requests/s, p50/p99 and CPU per request for
//   sendGift        durable gift mutation as a signed-in sender (one of 200 funded senders)
//   sendChatMessage chat mutation by broadcasters in their own live streams (exempt from the chat rate
//                   limit, migration 000006) — so every request does the full work, none is refused
//   { __typename }  a GraphQL request that touches no database: the GraphQL + HTTP floor
//   GET /healthz    plain HTTP through the same server: the Node HTTP floor
// The floor rows make ratios meaningful on a noisy shared machine. CPU columns: the server's process
// tree (from /proc), the load generator itself, and the rest of the machine (mostly PostgreSQL).
// Production-like by default (GRAPHILE_ENV=production, NODE_ENV=production); --graphile-env=development
// shows what grafast's development checks cost. --cpu-prof writes V8 CPU profiles of the server there.
// --against=<dir> also starts <dir>'s server (e.g. `git worktree add /tmp/base <commit>`, or a
// `git archive` copy with node_modules linked) on the same database and measures both, alternating,
// for --rounds rounds: a before/after comparison in one run on a noisy shared machine.

import { mkdirSync, readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { applyCurrentMigration, currentMigrationFiles, ensureDatabase, migrateDatabase, setupRoles } from "../../db/tools.ts";
import { startTestApp, type TestApp } from "../support/app.ts";
import { startCluster } from "../support/cluster.ts";
import { createGiftWorld, tokenFor } from "../support/gifts.ts";
import { cloneDatabase, dbUrl, TEMPLATE_DB, TEST_AUTHENTICATOR_PASSWORD } from "../support/testdb.ts";
import { emitRows, fmt, type MatrixRow, matrixRow } from "./matrix-row.ts";

function arg(args: string[], name: string, def: string): string {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? (a.slice(name.length + 3) ?? def) : def;
}
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))] ?? Number.NaN;
const log = (m: string) => console.error(`  ${m}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds (user + system) of a process and its children (cluster workers), from /proc. */
export function treeCpu(pid: number): number {
  const pids = [pid];
  try {
    for (const p of readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean)) pids.push(Number(p));
  } catch {}
  let cpu = 0;
  for (const p of pids) {
    try {
      const f = readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      cpu += (Number(f[11]) + Number(f[12])) / 100;
    } catch {}
  }
  return cpu;
}

/** Busy CPU seconds of the whole machine (all cores), from /proc/stat. */
export function machineCpu(): number {
  const f = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return (user + nice + system + irq + softirq + steal) / 100;
}

interface Reply {
  status: number;
  body: string;
}

/** A lean keep-alive HTTP client (node:http), so the load generator spends as little of the 2 cores as it can. */
export function client(base: string, sockets: number) {
  const url = new URL(base);
  const agent = new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  return (method: "GET" | "POST", path: string, body: string | null, headers: Record<string, string>) =>
    new Promise<Reply>((ok, fail) => {
      const req = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method,
          path,
          headers: body === null ? headers : { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => ok({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
          res.on("error", fail);
        },
      );
      req.on("error", fail);
      req.end(body ?? undefined);
    });
}

export interface Result {
  name: string;
  ok: number;
  errors: number;
  seconds: number;
  lat: number[];
  serverMs: number;
  loadMs: number;
  restMs: number;
}

/** `concurrency` loops calling `one` for `seconds` (after a warm-up that is not counted). */
export async function timed(
  name: string,
  app: TestApp,
  seconds: number,
  warmup: number,
  concurrency: number,
  one: (i: number) => Promise<void>,
): Promise<Result> {
  let i = 0;
  let errors = 0;
  const lat: number[] = [];
  let measuring = false;
  let stopAt = Date.now() + warmup * 1000;
  const loop = async () => {
    while (Date.now() < stopAt) {
      const n = i++;
      const s = performance.now();
      try {
        await one(n);
        if (measuring) lat.push(performance.now() - s);
      } catch (e) {
        if (measuring && errors++ < 3) log(`${name}: ${(e as Error).message.slice(0, 300)}`);
      }
    }
  };
  if (warmup > 0) await Promise.all(Array.from({ length: concurrency }, loop));
  const pid = app.proc.pid ?? 0;
  const s0 = treeCpu(pid);
  const m0 = machineCpu();
  const l0 = process.cpuUsage();
  const t0 = performance.now();
  measuring = true;
  stopAt = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsed = (performance.now() - t0) / 1000;
  const server = treeCpu(pid) - s0;
  const l1 = process.cpuUsage(l0);
  const load = (l1.user + l1.system) / 1e6;
  const machine = machineCpu() - m0;
  lat.sort((a, b) => a - b);
  const per = (cpuSeconds: number) => (lat.length ? (cpuSeconds * 1000) / lat.length : Number.NaN);
  return {
    name,
    ok: lat.length,
    errors,
    seconds: elapsed,
    lat,
    serverMs: per(server),
    loadMs: per(load),
    restMs: per(Math.max(0, machine - server - load)),
  };
}

interface Server {
  label: string;
  app: TestApp;
  call: ReturnType<typeof client>;
}

export async function run(args: string[]): Promise<void> {
  const seconds = Number(arg(args, "seconds", "4"));
  const warmup = Number(arg(args, "warmup", "1"));
  const rounds = Number(arg(args, "rounds", "1"));
  const concurrency = Number(arg(args, "concurrency", "16"));
  const processes = Number(arg(args, "processes", "1"));
  const graphileEnv = arg(args, "graphile-env", "production");
  const nodeEnv = arg(args, "node-env", "production");
  const only = new Set(arg(args, "only", "gift,chat,query,healthz").split(","));
  const fsync = arg(args, "fsync", "on");
  const cpuProf = arg(args, "cpu-prof", "");
  const against = arg(args, "against", "");

  const cluster = await startCluster({ log });
  const servers: Server[] = [];
  const results: (Result & { server: string; round: number })[] = [];
  try {
    const clusterUrl = cluster.url();
    await setupRoles(clusterUrl, TEST_AUTHENTICATOR_PASSWORD);
    const admin = new pg.Client({ connectionString: clusterUrl });
    await admin.connect();
    // The throwaway cluster runs with fsync off; a gift is durable, so measure it that way (as bench gifts does).
    await admin.query(`alter system set fsync = ${fsync === "off" ? "off" : "on"}`);
    await admin.query("alter system set synchronous_commit = on");
    await admin.query("select pg_reload_conf()");
    await admin.end();
    const templateUrl = dbUrl(clusterUrl, TEMPLATE_DB);
    await ensureDatabase(templateUrl);
    await migrateDatabase(templateUrl);
    // Committed migrations only, unless TEST_CURRENT names working files to add (a stable baseline while
    // others edit db/migrations/current).
    const current = process.env.TEST_CURRENT?.split(",").filter(Boolean) ?? [];
    if (current.length && currentMigrationFiles().length) await applyCurrentMigration(templateUrl, log, current);
    const t = new pg.Client({ connectionString: templateUrl });
    await t.connect();
    await t.query(readFileSync(fileURLToPath(new URL("../../db/test/helpers/tests.sql", import.meta.url)), "utf8"));
    await t.end();
    const db = await cloneDatabase(clusterUrl, "bench");
    const pool = new pg.Pool({ connectionString: db.url, max: 4 });
    // 200 funded senders and 32 broadcasters, each live in their own stream (chat: a broadcaster is
    // exempt from the rate limit in their own stream, so every chat request does the full work).
    const world = await createGiftWorld(pool, {
      prefix: "bq",
      casters: 32,
      senderCoins: Array.from({ length: 200 }, () => 10_000_000),
      gifts: [{ slug: "bq-rose", price: 1 }],
    });
    await pool.end();
    const senderTokens = await Promise.all(world.senders.map((s) => tokenFor(s.id)));
    const casterTokens = await Promise.all(world.casters.map((c) => tokenFor(c.id)));
    const gift = world.gifts[0];
    if (!gift) throw new Error("world has no gift");

    const env: Record<string, string> = {
      LOG_LEVEL: "warn",
      RUN_WEB: "false",
      GRAPHILE_ENV: graphileEnv,
      NODE_ENV: nodeEnv,
      WEB_CONCURRENCY: String(processes),
      DATABASE_POOL_SIZE: String(Math.max(4, Math.ceil(concurrency / processes) + 2)),
    };
    if (cpuProf) {
      const dir = resolve(cpuProf);
      mkdirSync(dir, { recursive: true });
      env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --cpu-prof --cpu-prof-dir=${dir}`.trim();
      log(`CPU profiles of the server go to ${dir} (written when it stops)`);
    }
    const start = async (label: string, main?: string) => {
      // Only one server runs the worker (settlement); both share the database, one is measured at a time.
      const app = await startTestApp(servers.length ? { ...env, RUN_WORKER: "false" } : env, { db, main });
      servers.push({ label, app, call: client(app.url, concurrency) });
    };
    await start("this tree");
    if (against) await start(`baseline ${against}`, resolve(against, "web/src/server/main.ts"));
    if (processes > 1) await sleep(2000); // every process listening

    const gql = async (server: Server, query: string, variables: Record<string, unknown>, token?: string) => {
      const r = await server.call(
        "POST",
        "/graphql",
        JSON.stringify({ query, variables }),
        token ? { authorization: `Bearer ${token}` } : {},
      );
      if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.body}`);
      const body = JSON.parse(r.body) as { errors?: unknown[] };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
    };
    // Every token once before measuring: the server verifies a token once and then remembers it
    // until it expires (auth.ts), as it does for a real client's repeated requests.
    // (Several parallel passes so that each of the cluster's processes sees each token.)
    for (const server of servers)
      for (let pass = 0; pass < 2 * processes; pass++)
        await Promise.all([...senderTokens, ...casterTokens].map((token) => gql(server, "{ __typename }", {}, token)));

    log(
      `server: ${processes} process(es), GRAPHILE_ENV=${graphileEnv}, NODE_ENV=${nodeEnv}; ${concurrency} clients, ${seconds} s per row after ${warmup} s warm-up, ${rounds} round(s)`,
    );
    const sendGift = "mutation($s: UUID!, $g: UUID!) { sendGift(input: {streamId: $s, giftId: $g}) { result { giftLedgerId } } }";
    const sendChat = "mutation($s: UUID!, $b: String!) { sendChatMessage(input: {streamId: $s, body: $b}) { result { rowId } } }";
    const rows: { key: string; name: string; one: (server: Server, i: number) => Promise<void> }[] = [
      {
        key: "gift",
        name: "sendGift mutation",
        one: (server, i) =>
          gql(
            server,
            sendGift,
            { s: world.casters[i % world.casters.length]?.streamId, g: gift.id },
            senderTokens[i % senderTokens.length],
          ),
      },
      {
        key: "chat",
        name: "sendChatMessage mutation",
        one: (server, i) => {
          const k = i % world.casters.length;
          return gql(server, sendChat, { s: world.casters[k]?.streamId, b: `bench message ${i}` }, casterTokens[k]);
        },
      },
      {
        key: "query",
        name: "query { __typename } (signed in)",
        one: (server, i) => gql(server, "{ __typename }", {}, senderTokens[i % senderTokens.length]),
      },
      {
        key: "healthz",
        name: "GET /healthz (HTTP floor)",
        one: async (server) => {
          const r = await server.call("GET", "/healthz", null, {});
          if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
        },
      },
    ];
    for (let round = 0; round < rounds; round++)
      for (const row of rows.filter((r) => only.has(r.key))) {
        // Alternate which server goes first, so neither always runs on a machine warmed by the other.
        const order = round % 2 === 0 ? servers : [...servers].reverse();
        for (const server of order) {
          const r = await timed(row.name, server.app, seconds, warmup, concurrency, (i) => row.one(server, i));
          results.push({ ...r, server: server.label, round });
          log(
            `round ${round + 1}: ${row.name} on ${server.label}: ${(r.ok / r.seconds).toFixed(0)} req/s, server CPU ${r.serverMs.toFixed(2)} ms/req`,
          );
        }
      }
  } finally {
    for (const s of servers) await s.app.stop();
    await cluster.stop();
  }

  const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : "-");
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? ((s[Math.floor((s.length - 1) / 2)] ?? 0) + (s[Math.ceil((s.length - 1) / 2)] ?? 0)) / 2 : Number.NaN;
  };
  console.log(
    `\nGraphQL per-request cost: ${processes} server process(es), GRAPHILE_ENV=${graphileEnv}, NODE_ENV=${nodeEnv}, ${concurrency} clients, ${seconds} s per row, ${rounds} round(s), fsync ${fsync}\n`,
  );
  console.log(
    "| request | server | round | done | errors | req/s | p50 (ms) | p99 (ms) | server CPU/req (ms) | load gen CPU/req (ms) | rest of machine CPU/req (ms) |",
  );
  console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of results)
    console.log(
      `| ${r.name} | ${r.server} | ${r.round + 1} | ${r.ok} | ${r.errors} | ${(r.ok / r.seconds).toFixed(0)} | ${f(pct(r.lat, 0.5), 1)} | ${f(pct(r.lat, 0.99), 1)} | ${f(r.serverMs)} | ${f(r.loadMs)} | ${f(r.restMs)} |`,
    );
  // Per server: medians over rounds, and each rate as a share of the same server's HTTP floor.
  const mrows: MatrixRow[] = [];
  console.log("\n| request | server | median req/s | % of /healthz | median p99 (ms) | median server CPU/req (ms) |");
  console.log("| --- | --- | ---: | ---: | ---: | ---: |");
  for (const server of [...new Set(results.map((r) => r.server))]) {
    const mine = results.filter((r) => r.server === server);
    const floor = median(mine.filter((r) => r.name.startsWith("GET /healthz")).map((r) => r.ok / r.seconds));
    for (const name of [...new Set(mine.map((r) => r.name))]) {
      const rs = mine.filter((r) => r.name === name);
      const rate = median(rs.map((r) => r.ok / r.seconds));
      console.log(
        `| ${name} | ${server} | ${rate.toFixed(0)} | ${Number.isFinite(floor) ? ((100 * rate) / floor).toFixed(1) : "-"} | ${f(median(rs.map((r) => pct(r.lat, 0.99))), 1)} | ${f(median(rs.map((r) => r.serverMs)))} |`,
      );
      if (server === servers[0]?.label)
        mrows.push(
          matrixRow({
            scenario: "graphql",
            row: `GraphQL cost: ${name}`,
            load: `${concurrency} clients, ${seconds} s × ${rounds} round(s), ${processes} process(es)`,
            result: `${fmt(rate)} req/s${Number.isFinite(floor) ? ` = ${((100 * rate) / floor).toFixed(1)} % of /healthz` : ""}`,
            budget: "-",
            rate,
            unit: "req/s",
            p50Ms: median(rs.map((r) => pct(r.lat, 0.5))),
            p99Ms: median(rs.map((r) => pct(r.lat, 0.99))),
            serverCpuMs: median(rs.map((r) => r.serverMs)),
          }),
        );
    }
  }
  emitRows(mrows);
}
