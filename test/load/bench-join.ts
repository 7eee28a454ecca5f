// `npm run bench join [--joins=2000] [--seconds=10] [--processes=2] [--naive-joins=2000]`
// Join storm on one stream, loopback only, bounded: --joins broadcast sockets opened evenly over
// --seconds. Reports the statements PostgreSQL executed during the storm (pg_stat_statements delta:
// relay ticks and presence flushes included) and the time from the last join until the stream's
// viewer count (streams.viewerCount, the viewer_count event) is right.
// Naive (old design): every join inserts a presence row with a NOTIFY and selects the profile.
// Full scale: --joins=10000 (docs/architecture.md, Budgets: 10,000 joins in 10 s, 0 queries per join, count right within 10 s).

import pg from "pg";
import WebSocket from "ws";
import { startTestApp, type TestApp } from "../support/app.ts";
import { arg, benchDatabase, fixtures, log, sleep } from "./bench-chat.ts";
import { emitRows, matrixRow } from "./matrix-row.ts";

async function statements(c: pg.Client): Promise<number> {
  const { rows } = await c.query<{ n: string }>("select coalesce(sum(calls), 0)::bigint as n from pg_stat_statements");
  return Number(rows[0]?.n ?? 0);
}

export async function run(args: string[]): Promise<void> {
  const joins = arg(args, "joins", 2000);
  const seconds = arg(args, "seconds", 10);
  const naiveJoins = arg(args, "naive-joins", 2000);
  const { cluster, db } = await benchDatabase();
  let app: TestApp | null = null;
  const sockets: WebSocket[] = [];
  const c = new pg.Client({ connectionString: db.url });
  try {
    const fx = await fixtures(db.url, 10);
    app = await startTestApp(
      { LOG_LEVEL: "error", RUN_WEB: "false", WEB_CONCURRENCY: String(arg(args, "processes", 2)), BROADCAST_MAX_PER_IP: "1000000" },
      { db },
    );
    await sleep(2000);
    await c.connect();
    const wsUrl = `${app.url.replace(/^http/, "ws")}/broadcast?stream=${fx.stream}`;
    // Warm the stream in every process (the one backlog query per stream per process).
    for (let i = 0; i < 8; i++) {
      const ws = new WebSocket(wsUrl);
      await new Promise<void>((r) => ws.once("message", () => r()));
      ws.terminate();
    }
    await sleep(3000);

    log(`storm: ${joins} joins over ${seconds} s`);
    const s0 = await statements(c);
    const t0 = performance.now();
    let opened = 0;
    for (let i = 0; i < joins; i++) {
      const wait = t0 + (i * seconds * 1000) / joins - performance.now();
      if (wait > 0) await sleep(wait);
      const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
      ws.on("open", () => opened++);
      ws.on("error", () => {});
      sockets.push(ws);
    }
    const joinedAt = performance.now();
    const s1 = await statements(c);
    let countRightAfter = Number.NaN;
    let lastCount = 0;
    const deadline = joinedAt + 30_000;
    while (performance.now() < deadline) {
      const { rows } = await c.query<{ n: number }>(
        "select app_public.streams_viewer_count(s) as n from app_public.streams s where id = $1",
        [fx.stream],
      );
      lastCount = rows[0]?.n ?? 0;
      if (lastCount === joins) {
        countRightAfter = (performance.now() - joinedAt) / 1000;
        break;
      }
      await sleep(100);
    }
    for (const ws of sockets) ws.terminate();
    const stormStatements = s1 - s0;

    // Naive: a presence row + NOTIFY and a profile SELECT per join, through a pool of 20.
    log(`naive: ${naiveJoins} joins over ${seconds} s`);
    await c.query("create table if not exists public.naive_presence (stream_id uuid, user_id uuid, joined_at timestamptz default now())");
    const pool = new pg.Pool({ connectionString: db.url, max: 20 });
    const n0 = await statements(c);
    const nt0 = performance.now();
    const pending: Promise<unknown>[] = [];
    let failed = 0;
    for (let i = 0; i < naiveJoins; i++) {
      const wait = nt0 + (i * seconds * 1000) / naiveJoins - performance.now();
      if (wait > 0) await sleep(wait);
      const user = fx.ids[i % fx.ids.length];
      pending.push(
        (async () => {
          await pool.query(
            "with p as (insert into public.naive_presence (stream_id, user_id) values ($1, $2) returning 1) select pg_notify('presence', $1::text) from p",
            [fx.stream, user],
          );
          await pool.query("select * from app_public.users where id = $1", [user]);
        })().catch(() => failed++),
      );
    }
    await Promise.all(pending);
    const naiveSeconds = (performance.now() - nt0) / 1000;
    const naiveStatements = (await statements(c)) - n0;
    await pool.end();

    console.log(`\n(c) Join storm on one stream, server in ${arg(args, "processes", 2)} processes (loopback)\n`);
    console.log("| variant | joins | over (s) | statements during storm | statements per join | count right after last join (s) |");
    console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
    console.log(
      `| ours: broadcast sockets, counts flushed per process | ${opened}/${joins} open | ${seconds} | ${stormStatements} | ${(stormStatements / joins).toFixed(3)} | ${Number.isNaN(countRightAfter) ? `not within 30 s (saw ${lastCount})` : countRightAfter.toFixed(1)} |`,
    );
    console.log(
      `| naive: presence INSERT + NOTIFY + profile SELECT per join | ${naiveJoins - failed}/${naiveJoins} | ${naiveSeconds.toFixed(1)} | ${naiveStatements} | ${(naiveStatements / naiveJoins).toFixed(2)} | — |`,
    );
    emitRows([
      matrixRow({
        scenario: "join",
        row: "join storm: statements per join, viewer count",
        load: `${joins.toLocaleString("en")} joins on one stream in ${seconds} s, ${arg(args, "processes", 2)} server processes`,
        result: `${opened}/${joins} open, ${stormStatements} statements in the storm (${(stormStatements / joins).toFixed(3)} per join, from the periodic flushes), count right ${Number.isNaN(countRightAfter) ? "not within 30 s" : `${countRightAfter.toFixed(1)} s`} after the last join`,
        budget: "no statement per join (< 0.1 per join in all), every socket open, count right < 10 s",
        ok: opened === joins && stormStatements / joins < 0.1 && countRightAfter < 10,
        rate: joins / seconds,
        unit: "joins/s",
        dbStatements: stormStatements / joins,
        naive: `${(naiveStatements / naiveJoins).toFixed(2)} statements per join (presence INSERT + NOTIFY + profile SELECT), ${naiveJoins - failed}/${naiveJoins} joined`,
      }),
    ]);
  } finally {
    for (const ws of sockets) ws.terminate();
    await c.end().catch(() => {});
    await app?.stop();
    await db.drop();
    await cluster.stop();
  }
}
