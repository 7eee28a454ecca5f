// `npm run bench batch [--sizes=1,4,16,64,256] [--gifts=3000]`
// What group commit costs the database per request, by batch size: app_private.send_gifts and
// send_chat_messages called on one connection as the server calls them (a named prepared statement,
// one transaction per call), next to the single-request app_public.send_gift / send_chat_message
// (one transaction per request, as PostgREST would call them). Per request: the backend's CPU (from
// /proc, so planning, execution, triggers and commit are all in it) and the wall time. One client:
// nothing else competes, so this is the database's own cost, not a throughput.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { applyCurrentMigration, currentMigrationFiles, ensureDatabase, migrateDatabase, setupRoles } from "../../db/tools.ts";
import { startCluster } from "../support/cluster.ts";
import { createGiftWorld } from "../support/gifts.ts";
import { cloneDatabase, dbUrl, TEMPLATE_DB, TEST_AUTHENTICATOR_PASSWORD } from "../support/testdb.ts";
import { emitRows, fmt, type MatrixRow, matrixRow } from "./matrix-row.ts";

function arg(args: string[], name: string, def: string): string {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) || def : def;
}
const log = (m: string) => console.error(`  ${m}`);

function backendCpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(f[11]) + Number(f[12])) * 10;
}

export async function run(args: string[]): Promise<void> {
  const sizes = arg(args, "sizes", "1,4,16,64,256").split(",").map(Number);
  const perSize = Number(arg(args, "gifts", "3000"));
  const cluster = await startCluster({ log });
  const rows: MatrixRow[] = [];
  const table: string[] = [];
  try {
    const clusterUrl = cluster.url();
    await setupRoles(clusterUrl, TEST_AUTHENTICATOR_PASSWORD);
    const admin = new pg.Client({ connectionString: clusterUrl });
    await admin.connect();
    await admin.query("alter system set fsync = on");
    await admin.query("alter system set synchronous_commit = on");
    await admin.query("select pg_reload_conf()");
    await admin.end();
    const templateUrl = dbUrl(clusterUrl, TEMPLATE_DB);
    await ensureDatabase(templateUrl);
    await migrateDatabase(templateUrl);
    if (currentMigrationFiles().length) await applyCurrentMigration(templateUrl, log, process.env.TEST_CURRENT?.split(",").filter(Boolean));
    const t = new pg.Client({ connectionString: templateUrl });
    await t.connect();
    await t.query(readFileSync(fileURLToPath(new URL("../../db/test/helpers/tests.sql", import.meta.url)), "utf8"));
    await t.end();
    const db = await cloneDatabase(clusterUrl, "batch");
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const world = await createGiftWorld(pool, {
      prefix: "bb",
      casters: 32,
      senderCoins: Array.from({ length: 200 }, () => 100_000_000),
      gifts: [{ slug: "bb-rose", price: 1 }],
    });
    await pool.end();
    const gift = world.gifts[0];
    if (!gift) throw new Error("world has no gift");
    const c = new pg.Client({ connectionString: db.url });
    c.on("error", () => {});
    await c.connect();
    // As the server's batch pool runs: the trollcity_server role.
    await c.query("set role trollcity_server");
    const pid = (await c.query<{ p: number }>("select pg_backend_pid() as p")).rows[0]?.p ?? 0;
    const tag = Math.random().toString(36).slice(2, 8);

    const measure = async (label: string, size: number, calls: number, call: (i: number) => Promise<void>) => {
      for (let i = 0; i < 10; i++) await call(-1 - i); // warm: plans cached, as in a running server
      const c0 = backendCpuMs(pid);
      const t0 = performance.now();
      for (let i = 0; i < calls; i++) await call(i);
      const wall = performance.now() - t0;
      const cpu = backendCpuMs(pid) - c0;
      const n = calls * size;
      log(`${label}, batches of ${size}: ${((cpu * 1000) / n).toFixed(0)} µs CPU per request`);
      return { cpuUs: (cpu * 1000) / n, wallUs: (wall * 1000) / n, callMs: wall / calls };
    };
    const giftReq = (it: number, i: number, size: number) => ({
      sender_id: world.senders[(((it + 1000) * size + i) % 200) % 200]?.id,
      stream_id: world.casters[i % 32]?.streamId,
      gift_id: gift.id,
      idempotency_key: `${tag}-${size}-${it}-${i}`,
    });
    const chatReq = (it: number, i: number, size: number) => ({
      sender_id: world.casters[i % 32]?.id,
      stream_id: world.casters[i % 32]?.streamId,
      body: `batch bench ${it} ${i}`,
      client_id: `${tag}-${size}-${it}-${i}`,
    });

    // Single-request functions, one transaction each (the authenticated role, claims set as PostgREST does).
    const single = async (kind: "gift" | "chat") => {
      const s = new pg.Client({ connectionString: db.url });
      s.on("error", () => {});
      await s.connect();
      const spid = (await s.query<{ p: number }>("select pg_backend_pid() as p")).rows[0]?.p ?? 0;
      const one = async (i: number) => {
        const k = ((i % 32) + 32) % 32;
        const r = kind === "gift" ? giftReq(i, k, 1) : chatReq(i, k, 1);
        const claims = JSON.stringify({ role: "authenticated", sub: r.sender_id });
        await s.query("begin");
        await s.query({
          name: "claims",
          text: "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)",
          values: [claims],
        });
        if (kind === "gift")
          await s.query({
            name: "g",
            text: "select app_public.send_gift($1, $2, 1, $3)",
            values: [r.stream_id, gift.id, `${tag}-single-${i}`],
          });
        else
          await s.query({
            name: "m",
            text: "select app_public.send_chat_message($1, $2)",
            values: [r.stream_id, (r as { body: string }).body],
          });
        await s.query("commit");
      };
      for (let i = 0; i < 10; i++) await one(-1 - i);
      const n = Math.min(perSize, 2000);
      const c0 = backendCpuMs(spid);
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await one(i);
      const wall = performance.now() - t0;
      const cpu = backendCpuMs(spid) - c0;
      await s.end();
      return { cpuUs: (cpu * 1000) / n, wallUs: (wall * 1000) / n };
    };

    for (const kind of ["gift", "chat"] as const) {
      const fn = kind === "gift" ? "send_gifts" : "send_chat_messages";
      const base = await single(kind);
      log(`${kind}: single-request function, one transaction each: ${base.cpuUs.toFixed(0)} µs CPU per request`);
      table.push(
        `| ${kind === "gift" ? "app_public.send_gift" : "app_public.send_chat_message"}, one transaction each | 1 | ${base.cpuUs.toFixed(0)} | ${base.wallUs.toFixed(0)} | - | 1.00 |`,
      );
      for (const size of sizes) {
        const calls = Math.max(3, Math.ceil(perSize / size));
        const r = await measure(fn, size, calls, async (it) => {
          const reqs = Array.from({ length: size }, (_, i) => (kind === "gift" ? giftReq(it, i, size) : chatReq(it, i, size)));
          await c.query({ name: fn, text: `select count(*) from app_private.${fn}($1::jsonb)`, values: [JSON.stringify(reqs)] });
        });
        table.push(
          `| app_private.${fn} | ${size} | ${r.cpuUs.toFixed(0)} | ${r.wallUs.toFixed(0)} | ${r.callMs.toFixed(2)} | ${(r.cpuUs / base.cpuUs).toFixed(2)} |`,
        );
        rows.push(
          matrixRow({
            scenario: "batch",
            row: `${fn}: database cost per request, batches of ${size}`,
            load: `${calls} calls on one connection`,
            result: `${r.cpuUs.toFixed(0)} µs backend CPU per request (${(r.cpuUs / base.cpuUs).toFixed(2)}× the single-request function), ${r.callMs.toFixed(2)} ms per call`,
            budget: "-",
            naive: `${base.cpuUs.toFixed(0)} µs per request, one transaction each`,
          }),
        );
      }
    }
    await c.end();
    await db.drop();
  } finally {
    await cluster.stop();
  }
  console.log(`\nDatabase cost per request by batch size (one connection, fsync on, ${fmt(perSize, 0)} requests per row)\n`);
  console.log("| function | batch | backend CPU per request (µs) | wall per request (µs) | ms per call | × single-request CPU |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
  for (const l of table) console.log(l);
  emitRows(rows);
}
