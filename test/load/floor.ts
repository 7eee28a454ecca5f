// PostgreSQL's own floor for the write-path budgets: pgbench, `clients` clients, one durable one-row
// INSERT per transaction, on the benchmark's own cluster and database (docs/architecture.md "Budgets").
import { execFile } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run$ = promisify(execFile);

export async function pgbenchFloor(binDir: string | null, url: string, clients: number, seconds: number) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query("drop table if exists bench_floor; create table bench_floor (id bigserial primary key, v int not null)");
  // Start from a clean WAL state, and leave one (pgbench's WAL would be checkpointed while the next
  // rows run, competing with their commits' flushes).
  await c.query("checkpoint");
  const script = join(tmpdir(), `trollcity-pgbench-floor-${process.pid}.sql`);
  writeFileSync(script, "insert into bench_floor (v) values (1);\n");
  const bin = binDir ? join(binDir, "pgbench") : "/usr/lib/postgresql/15/bin/pgbench";
  try {
    const { stdout } = await run$(bin, ["-n", "-c", String(clients), "-j", "2", "-T", String(seconds), "-f", script, "-r", url], {
      maxBuffer: 1 << 24,
    });
    await c.query("checkpoint");
    const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1] ?? Number.NaN);
    const latency = Number(/latency average = ([\d.]+) ms/.exec(stdout)?.[1] ?? Number.NaN);
    return { tps, latency, version: (await run$(bin, ["--version"])).stdout.trim() };
  } finally {
    rmSync(script, { force: true });
    await c.end();
  }
}
