// `npm run bench writes [--seconds=5] [--warmup=1] [--clients=16] [--sockets=16] [--window=16] [--chat-window=2]
//   [--lanes=2] [--keys=on|off] [--profile] [--only=floor,naive,gql-gift,gql-chat,ws-gift,ws-chat] [--json=<file>]`
// The write path at the database's own limit (issue 14): gifts and chat through the group-commit
// write path, next to PostgreSQL's own floor measured in the same run on the same cluster:
//   floor     pgbench, `--clients` clients, one-row durable INSERT per transaction (fsync on,
//             synchronous_commit on): what one durable commit per write costs on this machine
//   naive     the design group commit replaces: one gift = one transaction = one durable commit
//             (`--clients` connections calling app_public.send_gift, claims and call in one round trip)
//   gql-gift  GraphQL sendGift, `--clients` keep-alive HTTP clients, one request at a time each
//   gql-chat  GraphQL sendChatMessage by the 200 senders (distinct viewers, not exempt: the rate limit
//             and slow mode are evaluated for every message; the bench raises chat_rate_per_second to
//             1,000 and chat_burst to 2,000 so that 200 senders can reach 10,000 msgs/s without RATEL)
//   ws-gift   `gift` frames over `--sockets` authenticated broadcast sockets (one sender each), each
//             keeping `--window` frames in flight (a client does not wait for one gift's ack to send the
//             next), every frame with its own idempotency key
//   ws-chat   `chat` frames by the same 200 senders, one authenticated socket each (`--chat-window`
//             frames in flight per socket)
// Every gift is durable (one commit per batch, fsync on). Ratios are to the pgbench floor of this run.
// The server runs in production mode, one process, with the per-socket frame limit and per-address
// socket cap raised (the load generator is one address); the worker runs (settlement).
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import pg from "pg";
import WebSocket from "ws";
import { applyCurrentMigration, currentMigrationFiles, ensureDatabase, migrateDatabase, setupRoles } from "../../db/tools.ts";
import { startTestApp, type TestApp } from "../support/app.ts";
import { startCluster } from "../support/cluster.ts";
import { createGiftWorld, tokenFor } from "../support/gifts.ts";
import { cloneDatabase, dbUrl, TEMPLATE_DB, TEST_AUTHENTICATOR_PASSWORD } from "../support/testdb.ts";
import { client, machineCpu, treeCpu } from "./bench-graphql.ts";
import { pgbenchFloor } from "./floor.ts";
import { emitRows, fmt, type MatrixRow, matrixRow } from "./matrix-row.ts";
import { cpuPerOp, cpuSnapshot, printProfile, resetStatements, statementCount, topStatements } from "./profile.ts";

function arg(args: string[], name: string, def: string): string {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? (a.slice(name.length + 3) ?? def) : def;
}
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))] ?? Number.NaN;
const log = (m: string) => console.error(`  ${m}`);

export interface Row {
  key: string;
  name: string;
  clients: string;
  ok: number;
  errors: number;
  seconds: number;
  rate: number;
  p50: number;
  p99: number;
  serverCpuMs: number;
  restCpuMs: number;
  batch?: number;
  batchMs?: number;
  /** Database statements (top level) per operation. */
  statements?: number;
}

/** `workers` loops calling `one(worker)` for `seconds` after `warmup` seconds: rate, latencies, CPU. */
async function measure(
  app: TestApp,
  seconds: number,
  warmup: number,
  workers: number,
  one: (worker: number) => Promise<void>,
  onError: (e: Error) => void,
  profile?: { admin: pg.Client; title: string },
  stats?: pg.Client,
) {
  let stopAt = Date.now() + warmup * 1000;
  let measuring = false;
  let errors = 0;
  const lat: number[] = [];
  const loop = async (w: number) => {
    while (Date.now() < stopAt) {
      const s = performance.now();
      try {
        await one(w);
        if (measuring) lat.push(performance.now() - s);
      } catch (e) {
        if (measuring && errors++ < 3) onError(e as Error);
      }
    }
  };
  if (warmup > 0) await Promise.all(Array.from({ length: workers }, (_, w) => loop(w)));
  const pid = app.proc.pid ?? 0;
  if (profile) await resetStatements(profile.admin);
  const st0 = stats ? await statementCount(stats) : Number.NaN;
  const p0 = profile ? await cpuSnapshot(profile.admin, pid) : null;
  const s0 = treeCpu(pid);
  const m0 = machineCpu();
  const l0 = process.cpuUsage();
  const t0 = performance.now();
  measuring = true;
  stopAt = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: workers }, (_, w) => loop(w)));
  const elapsed = (performance.now() - t0) / 1000;
  const server = treeCpu(pid) - s0;
  const l1 = process.cpuUsage(l0);
  const rest = Math.max(0, machineCpu() - m0 - server - (l1.user + l1.system) / 1e6);
  // (two statements of the counter itself)
  const statements = stats ? (await statementCount(stats)) - st0 - 2 : Number.NaN;
  if (profile && p0) {
    const p1 = await cpuSnapshot(profile.admin, pid);
    printProfile(profile.title, lat.length, cpuPerOp(p0, p1, lat.length), await topStatements(profile.admin));
  }
  lat.sort((a, b) => a - b);
  return {
    ok: lat.length,
    errors,
    seconds: elapsed,
    rate: lat.length / elapsed,
    p50: pct(lat, 0.5),
    p99: pct(lat, 0.99),
    serverCpuMs: lat.length ? (server * 1000) / lat.length : Number.NaN,
    restCpuMs: lat.length ? (rest * 1000) / lat.length : Number.NaN,
    statements: lat.length ? statements / lat.length : Number.NaN,
  };
}

/** An authenticated broadcast socket whose frames are answered by id. */
async function sendSocket(baseUrl: string, streamId: string, token: string) {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/broadcast?stream=${streamId}`, { perMessageDeflate: false });
  const waiting = new Map<string, { ok: () => void; fail: (e: Error) => void }>();
  let helloed: () => void = () => {};
  const hello = new Promise<void>((r) => {
    helloed = r;
  });
  ws.on("message", (data) => {
    const text = String(data);
    if (text.startsWith('{"type":"events"')) return;
    const m = JSON.parse(text) as { type: string; id?: string; code?: string; message?: string };
    if (m.type === "hello") return helloed();
    const w = m.id == null ? undefined : waiting.get(String(m.id));
    if (!w) return;
    waiting.delete(String(m.id));
    if (m.type === "ack") w.ok();
    else w.fail(new Error(`${m.code}: ${m.message}`));
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  await hello;
  let n = 0;
  const frame = (f: Record<string, unknown>) =>
    new Promise<void>((ok, fail) => {
      const id = `f${n++}`;
      waiting.set(id, { ok, fail });
      ws.send(JSON.stringify({ ...f, id }));
    });
  await frame({ type: "auth", token });
  return { frame, close: () => ws.terminate() };
}

async function batchSizes(app: TestApp): Promise<Record<string, { count: number; sum: number; seconds: number }>> {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  const out: Record<string, { count: number; sum: number; seconds: number }> = {};
  for (const m of text.matchAll(/^trollcity_write_batch_(size_sum|size_count|seconds_sum)\{path="(\w+)"\} ([\d.e+-]+)$/gm)) {
    const path = m[2] ?? "";
    const o = out[path] ?? { count: 0, sum: 0, seconds: 0 };
    if (m[1] === "size_sum") o.sum = Number(m[3]);
    else if (m[1] === "size_count") o.count = Number(m[3]);
    else o.seconds = Number(m[3]);
    out[path] = o;
  }
  return out;
}

export async function run(args: string[]): Promise<void> {
  const seconds = Number(arg(args, "seconds", "5"));
  const warmup = Number(arg(args, "warmup", "1"));
  const clients = Number(arg(args, "clients", "16"));
  const sockets = Number(arg(args, "sockets", "16"));
  const windowSize = Number(arg(args, "window", "16"));
  const chatWindow = Number(arg(args, "chat-window", "2"));
  const only = new Set(arg(args, "only", "floor,naive,gql-gift,gql-chat,ws-gift,ws-chat").split(","));
  const jsonOut = arg(args, "json", "");
  const lanes = arg(args, "lanes", "");
  const keys = arg(args, "keys", "on") !== "off";
  const profiling = args.includes("--profile");
  let profAdmin: pg.Client | null = null;
  let statsAdmin: pg.Client | null = null;
  const startedAt = new Date();

  const cluster = await startCluster({ log });
  const rows: Row[] = [];
  let app: TestApp | null = null;
  let floor = { tps: Number.NaN, latency: Number.NaN, version: "" };
  let pgVersion = "";
  try {
    const clusterUrl = cluster.url();
    await setupRoles(clusterUrl, TEST_AUTHENTICATOR_PASSWORD);
    const admin = new pg.Client({ connectionString: clusterUrl });
    await admin.connect();
    await admin.query("alter system set fsync = on");
    await admin.query("alter system set synchronous_commit = on");
    if (profiling) await admin.query("alter system set pg_stat_statements.track = 'all'");
    await admin.query("select pg_reload_conf()");
    pgVersion = (await admin.query<{ v: string }>("select version() as v")).rows[0]?.v ?? "";
    await admin.end();
    const templateUrl = dbUrl(clusterUrl, TEMPLATE_DB);
    await ensureDatabase(templateUrl);
    await migrateDatabase(templateUrl);
    // The working migration (the batch functions live there until it is committed).
    if (currentMigrationFiles().length) await applyCurrentMigration(templateUrl, log, process.env.TEST_CURRENT?.split(",").filter(Boolean));
    const t = new pg.Client({ connectionString: templateUrl });
    await t.connect();
    await t.query(readFileSync(fileURLToPath(new URL("../../db/test/helpers/tests.sql", import.meta.url)), "utf8"));
    await t.end();
    const db = await cloneDatabase(clusterUrl, "bench");
    const pool = new pg.Pool({ connectionString: db.url, max: 4 });
    const world = await createGiftWorld(pool, {
      prefix: "bw",
      casters: 32,
      senderCoins: Array.from({ length: 200 }, () => 100_000_000),
      gifts: [{ slug: "bw-rose", price: 1 }],
    });
    // Chat by distinct senders with the limits evaluated, raised so the bench's senders stay inside them.
    await pool.query(
      `insert into app_private.settings (key, value) values ('chat_rate_per_second', '1000'), ('chat_burst', '2000')
       on conflict (key) do update set value = excluded.value`,
    );
    await pool.end();
    const senderTokens = await Promise.all(world.senders.map((s) => tokenFor(s.id)));
    const casterTokens = await Promise.all(world.casters.map((c) => tokenFor(c.id)));
    const gift = world.gifts[0];
    if (!gift) throw new Error("world has no gift");

    if (only.has("floor")) {
      floor = await pgbenchFloor(cluster.binDir, db.url, clients, seconds);
      log(`pgbench floor: ${floor.tps.toFixed(0)} tps, latency average ${floor.latency} ms (${clients} clients)`);
      rows.push({
        key: "floor",
        name: "pgbench: one-row durable INSERT per transaction",
        clients: `${clients} clients`,
        ok: Math.round(floor.tps * seconds),
        errors: 0,
        seconds,
        rate: floor.tps,
        p50: Number.NaN,
        p99: Number.NaN,
        serverCpuMs: Number.NaN,
        restCpuMs: Number.NaN,
      });
    }

    if (only.has("naive")) {
      const naivePool = new pg.Pool({ connectionString: db.url, max: clients });
      const lit = (v: string) => `'${v.replaceAll("'", "''")}'`;
      let n = 0;
      const stop0 = Date.now() + warmup * 1000;
      const lat: number[] = [];
      let errors = 0;
      let measuring = false;
      let stopAt = stop0;
      const loop = async (w: number) => {
        const c = await naivePool.connect();
        try {
          while (Date.now() < stopAt) {
            const i = n++;
            const sender = world.senders[(w * 7 + i) % world.senders.length];
            const claims = JSON.stringify({ role: "authenticated", sub: sender?.id });
            const t = performance.now();
            try {
              await c.query(
                `begin; select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${lit(claims)}, true);
                 select app_public.send_gift(${lit(world.casters[i % 32]?.streamId ?? "")}, ${lit(gift.id)}, 1, ${lit(`nv-${i}`)}); commit;`,
              );
              if (measuring) lat.push(performance.now() - t);
            } catch {
              await c.query("rollback").catch(() => {});
              if (measuring) errors++;
            }
          }
        } finally {
          c.release();
        }
      };
      await Promise.all(Array.from({ length: clients }, (_, w) => loop(w)));
      measuring = true;
      stopAt = Date.now() + seconds * 1000;
      const t0 = performance.now();
      await Promise.all(Array.from({ length: clients }, (_, w) => loop(w)));
      const elapsed = (performance.now() - t0) / 1000;
      await naivePool.end();
      lat.sort((a, b) => a - b);
      rows.push({
        key: "naive",
        name: "naive: one transaction and one durable commit per gift (send_gift over SQL)",
        clients: `${clients} clients`,
        ok: lat.length,
        errors,
        seconds: elapsed,
        rate: lat.length / elapsed,
        p50: pct(lat, 0.5),
        p99: pct(lat, 0.99),
        serverCpuMs: Number.NaN,
        restCpuMs: Number.NaN,
      });
      log(`naive send_gift per transaction: ${(lat.length / elapsed).toFixed(0)}/s, p99 ${pct(lat, 0.99).toFixed(1)} ms`);
    }

    app = await startTestApp(
      {
        LOG_LEVEL: "warn",
        RUN_WEB: "false",
        GRAPHILE_ENV: "production",
        NODE_ENV: "production",
        DATABASE_POOL_SIZE: String(clients + 4),
        BROADCAST_MAX_PER_IP: "100000",
        BROADCAST_SEND_RATE: "100000",
        ...(lanes ? { WRITE_LANES: lanes } : {}),
      },
      { db },
    );
    if (profiling) {
      profAdmin = new pg.Client({ connectionString: db.url });
      await profAdmin.connect();
    }
    const prof = (title: string) => (profAdmin ? { admin: profAdmin, title } : undefined);
    statsAdmin = new pg.Client({ connectionString: db.url });
    await statsAdmin.connect();
    const http = client(app.url, clients);
    const gql = async (query: string, variables: Record<string, unknown>, token: string) => {
      const r = await http("POST", "/graphql", JSON.stringify({ query, variables }), { authorization: `Bearer ${token}` });
      if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.body.slice(0, 300)}`);
      if (r.body.includes('"errors"')) throw new Error(r.body.slice(0, 300));
    };
    for (const token of [...senderTokens, ...casterTokens]) await gql("{ __typename }", {}, token).catch(() => {});
    const sendGift =
      "mutation($s: UUID!, $g: UUID!, $k: String) { sendGift(input: {streamId: $s, giftId: $g, idempotencyKey: $k}) { result { giftLedgerId } } }";
    const sendChat = "mutation($s: UUID!, $b: String!) { sendChatMessage(input: {streamId: $s, body: $b}) { result { rowId } } }";
    let seq = 0;
    const record = async (
      key: string,
      name: string,
      clientsLabel: string,
      r: Awaited<ReturnType<typeof measure>>,
      path: string,
      before: Record<string, { count: number; sum: number; seconds: number }>,
    ) => {
      const after = await batchSizes(app as TestApp);
      const b0 = before[path] ?? { count: 0, sum: 0, seconds: 0 };
      const b1 = after[path] ?? { count: 0, sum: 0, seconds: 0 };
      const batch = b1.count > b0.count ? (b1.sum - b0.sum) / (b1.count - b0.count) : Number.NaN;
      const batchMs = b1.count > b0.count ? ((b1.seconds - b0.seconds) * 1000) / (b1.count - b0.count) : Number.NaN;
      rows.push({ key, name, clients: clientsLabel, ...r, batch, batchMs });
      log(
        `${name}: ${r.rate.toFixed(0)}/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, ${batch.toFixed(1)} requests per batch (incl. warm-up)`,
      );
    };

    if (only.has("gql-gift")) {
      const before = await batchSizes(app);
      const r = await measure(
        app,
        seconds,
        warmup,
        clients,
        (w) => {
          const i = seq++;
          return gql(
            sendGift,
            { s: world.casters[i % 32]?.streamId, g: gift.id, k: `gq-${i}` },
            senderTokens[(w * 7 + i) % senderTokens.length] ?? "",
          );
        },
        (e) => log(`gql-gift: ${e.message}`),
        prof("GraphQL sendGift"),
        statsAdmin ?? undefined,
      );
      await record("gql-gift", "GraphQL sendGift (HTTP, one request at a time per client)", `${clients} clients`, r, "gifts", before);
    }
    if (only.has("gql-chat")) {
      const before = await batchSizes(app);
      const r = await measure(
        app,
        seconds,
        warmup,
        clients,
        (w) => {
          const i = seq++;
          const k = (w * 13 + i) % senderTokens.length;
          return gql(sendChat, { s: world.casters[k % 32]?.streamId, b: `bench message ${i}` }, senderTokens[k] ?? "");
        },
        (e) => log(`gql-chat: ${e.message}`),
        prof("GraphQL sendChatMessage"),
        statsAdmin ?? undefined,
      );
      await record("gql-chat", "GraphQL sendChatMessage (HTTP, one request at a time per client)", `${clients} clients`, r, "chat", before);
    }
    if (only.has("ws-gift")) {
      const socks = await Promise.all(
        Array.from({ length: sockets }, (_, s) =>
          sendSocket(app?.url ?? "", world.casters[s % 32]?.streamId ?? "", senderTokens[s % senderTokens.length] ?? ""),
        ),
      );
      const before = await batchSizes(app);
      const r = await measure(
        app,
        seconds,
        warmup,
        sockets * windowSize,
        (w) =>
          socks[w % sockets]?.frame({ type: "gift", gift_id: gift.id, idempotency_key: keys ? `ws-${seq++}` : null }) ?? Promise.resolve(),
        (e) => log(`ws-gift: ${e.message}`),
        prof("socket gift frames"),
        statsAdmin ?? undefined,
      );
      await record("ws-gift", "broadcast socket `gift` frames", `${sockets} sockets × ${windowSize} in flight`, r, "gifts", before);
      for (const s of socks) s.close();
    }
    if (only.has("ws-chat")) {
      const n = senderTokens.length;
      const socks = await Promise.all(
        Array.from({ length: n }, (_, s) => sendSocket(app?.url ?? "", world.casters[s % 32]?.streamId ?? "", senderTokens[s] ?? "")),
      );
      const before = await batchSizes(app);
      const r = await measure(
        app,
        seconds,
        warmup,
        n * chatWindow,
        (w) => socks[w % n]?.frame({ type: "chat", body: `socket message ${seq++}` }) ?? Promise.resolve(),
        (e) => log(`ws-chat: ${e.message}`),
        prof("socket chat frames"),
        statsAdmin ?? undefined,
      );
      await record("ws-chat", "broadcast socket `chat` frames", `${n} senders' sockets × ${chatWindow} in flight`, r, "chat", before);
      for (const s of socks) s.close();
    }
  } finally {
    await profAdmin?.end();
    await statsAdmin?.end();
    await app?.stop();
    await cluster.stop();
  }

  const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : "-");
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
  console.log(
    `\nWrite path vs the pgbench floor: ${startedAt.toISOString()}, ${machine}, ${pgVersion.split(" on ")[0]}, Node ${process.version}`,
  );
  console.log(`fsync on, synchronous_commit on; ${seconds} s per row after ${warmup} s warm-up; WRITE_LANES=${lanes || "default (2)"}\n`);
  console.log(
    "| path | clients | done | errors | per s | × pgbench floor | p50 (ms) | p99 (ms) | requests per batch | ms per batch call | server CPU/op (ms) | rest of machine CPU/op (ms) |",
  );
  console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of rows)
    console.log(
      `| ${r.name} | ${r.clients} | ${r.ok} | ${r.errors} | ${r.rate.toFixed(0)} | ${f(r.rate / floor.tps, 2)} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.batch ?? Number.NaN)} | ${f(r.batchMs ?? Number.NaN)} | ${f(r.serverCpuMs, 2)} | ${f(r.restCpuMs, 2)} |`,
    );
  emitRows(matrixRows(rows, floor.tps, seconds));
  if (jsonOut) {
    writeFileSync(
      jsonOut,
      `${JSON.stringify({ scenario: "writes", startedAt, machine, postgres: pgVersion, node: process.version, floor, rows }, null, 2)}\n`,
    );
    console.log(`\nwrote ${jsonOut}`);
  }
}

/** The write-path budgets (docs/architecture.md "Budgets") as matrix rows, with this run's floor and naive path. */
function matrixRows(rows: Row[], floorTps: number, seconds: number): MatrixRow[] {
  const by = new Map(rows.map((r) => [r.key, r]));
  const floor = Number.isFinite(floorTps) ? `${fmt(floorTps)} tps` : undefined;
  const naiveRow = by.get("naive");
  const naive = naiveRow
    ? `${fmt(naiveRow.rate)} gifts/s (× floor ${fmt(naiveRow.rate / floorTps)}), p99 ${fmt(naiveRow.p99)} ms`
    : undefined;
  const budgets: { key: string; row: string; unit: string; budget: string; ok: (r: Row) => boolean; ratio: boolean }[] = [
    {
      key: "ws-gift",
      row: "gifts over the broadcast socket (the web app's path)",
      unit: "gifts/s",
      budget: "≥ 1.0× floor, p99 < 50 ms, 0 errors",
      ok: (r) => r.rate >= floorTps && r.p99 < 50 && r.errors === 0,
      ratio: true,
    },
    {
      key: "gql-gift",
      row: "gifts through GraphQL sendGift",
      unit: "gifts/s",
      budget: "≥ 0.25× floor, p99 < 50 ms, 0 errors",
      ok: (r) => r.rate >= 0.25 * floorTps && r.p99 < 50 && r.errors === 0,
      ratio: true,
    },
    {
      key: "ws-chat",
      row: "chat over the broadcast socket (200 distinct senders, limits evaluated)",
      unit: "msgs/s",
      budget: "≥ 10,000 msgs/s, p99 < 50 ms, 0 errors",
      ok: (r) => r.rate >= 10_000 && r.p99 < 50 && r.errors === 0,
      ratio: false,
    },
    {
      key: "gql-chat",
      row: "chat through GraphQL sendChatMessage (200 distinct senders, limits evaluated)",
      unit: "msgs/s",
      budget: "≥ 3,000 msgs/s, p99 < 50 ms, 0 errors",
      ok: (r) => r.rate >= 3_000 && r.p99 < 50 && r.errors === 0,
      ratio: false,
    },
  ];
  const out: MatrixRow[] = [];
  for (const b of budgets) {
    const r = by.get(b.key);
    if (!r) continue;
    out.push(
      matrixRow({
        scenario: "writes",
        row: b.row,
        load: `${r.clients}, ${seconds} s`,
        result: `${fmt(r.rate)} ${b.unit}${b.ratio && floor ? ` = ${fmt(r.rate / floorTps)}× floor` : ""}, ${r.errors} errors, ${fmt(r.batch)} per batch`,
        budget: b.budget,
        // A ratio budget without its floor cannot pass (the floor is left out only with --only).
        ok: b.ratio && !Number.isFinite(floorTps) ? false : b.ok(r),
        rate: r.rate,
        unit: b.unit,
        p50Ms: r.p50,
        p99Ms: r.p99,
        serverCpuMs: r.serverCpuMs,
        dbStatements: r.statements,
        naive: b.unit === "gifts/s" ? naive : undefined,
        floor,
      }),
    );
  }
  return out;
}
