// Where the time goes during one benchmark row (issue 14's "show the profile for a missed target"):
// CPU seconds per process group read from /proc (the server process tree, this load generator, and each
// PostgreSQL process named by its role and application_name from pg_stat_activity), and the statements
// that took the database's time, from pg_stat_statements with `track = all` (statements inside plpgsql
// functions included; a function's own row includes its statements' time).
import { readdirSync, readFileSync } from "node:fs";
import type pg from "pg";

function procCpu(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

function children(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const t of readdirSync(`/proc/${pid}/task`))
      for (const c of readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").trim().split(/\s+/).filter(Boolean)) {
        out.push(Number(c), ...children(Number(c)));
      }
  } catch {}
  return out;
}

export interface CpuSnapshot {
  at: number;
  groups: Map<string, number>;
}

/** CPU seconds so far, per group: "server", "generator", "pg <role> <application_name>", "pg <backend type>", "other". */
export async function cpuSnapshot(admin: pg.Client, serverPid: number): Promise<CpuSnapshot> {
  const groups = new Map<string, number>();
  const add = (g: string, s: number) => groups.set(g, (groups.get(g) ?? 0) + s);
  const server = new Set([serverPid, ...children(serverPid)]);
  for (const p of server) add("server (node)", procCpu(p));
  add("load generator (node)", procCpu(process.pid));
  const { rows } = await admin.query<{ pid: number; who: string }>(
    `select pid, case when backend_type = 'client backend'
                      then 'pg backend ' || coalesce(usename, '?') || coalesce(nullif(' ' || application_name, ' '), '')
                      else 'pg ' || backend_type end as who
       from pg_stat_activity where pid <> pg_backend_pid()`,
  );
  for (const r of rows) if (!server.has(r.pid)) add(r.who.replace(/:\d+$/, ""), procCpu(r.pid));
  return { at: performance.now(), groups };
}

/** CPU milliseconds per operation between two snapshots, biggest first. */
export function cpuPerOp(a: CpuSnapshot, b: CpuSnapshot, ops: number): { group: string; msPerOp: number; cores: number }[] {
  const secs = (b.at - a.at) / 1000;
  const out: { group: string; msPerOp: number; cores: number }[] = [];
  for (const [g, v] of b.groups) {
    const d = v - (a.groups.get(g) ?? 0);
    if (d > 0.005) out.push({ group: g, msPerOp: (d * 1000) / Math.max(1, ops), cores: d / secs });
  }
  return out.sort((x, y) => y.msPerOp - x.msPerOp);
}

export async function resetStatements(admin: pg.Client): Promise<void> {
  await admin.query("create extension if not exists pg_stat_statements");
  await admin.query("select pg_stat_statements_reset()");
}

/** The statements with the most execution time since the reset (top level and nested). */
export async function topStatements(admin: pg.Client, limit = 12) {
  const { rows } = await admin.query<{ query: string; calls: string; total_ms: number; mean_ms: number; rows: string; toplevel: boolean }>(
    `select regexp_replace(query, '\\s+', ' ', 'g') as query, calls, total_exec_time as total_ms, mean_exec_time as mean_ms, rows, toplevel
       from pg_stat_statements
      where query !~* 'pg_stat_statements|pg_stat_activity'
      order by total_exec_time desc limit $1`,
    [limit],
  );
  return rows.map((r) => ({ ...r, calls: Number(r.calls), rows: Number(r.rows) }));
}

export function printProfile(
  title: string,
  ops: number,
  cpu: { group: string; msPerOp: number; cores: number }[],
  statements: Awaited<ReturnType<typeof topStatements>>,
): void {
  console.log(`\nProfile: ${title} (${ops} operations)\n`);
  console.log("| process group | CPU ms per op | cores |");
  console.log("| --- | ---: | ---: |");
  for (const c of cpu) console.log(`| ${c.group} | ${c.msPerOp.toFixed(3)} | ${c.cores.toFixed(2)} |`);
  const total = cpu.reduce((s, c) => s + c.msPerOp, 0);
  console.log(`| total | ${total.toFixed(3)} | ${cpu.reduce((s, c) => s + c.cores, 0).toFixed(2)} |`);
  console.log("\n| statement (pg_stat_statements, track = all) | top level | calls | exec ms per op | ms per call | rows per call |");
  console.log("| --- | --- | ---: | ---: | ---: | ---: |");
  for (const s of statements)
    console.log(
      `| \`${s.query.slice(0, 110).replaceAll("|", "\\|")}\` | ${s.toplevel ? "yes" : "no"} | ${s.calls} | ${(s.total_ms / Math.max(1, ops)).toFixed(3)} | ${s.mean_ms.toFixed(3)} | ${(s.rows / Math.max(1, s.calls)).toFixed(1)} |`,
    );
}

/** Top-level statements executed so far in the cluster (pg_stat_statements; needs the extension in the database `admin` is connected to). */
export async function statementCount(admin: pg.Client): Promise<number> {
  await admin.query("create extension if not exists pg_stat_statements");
  const { rows } = await admin.query<{ n: string }>(
    "select coalesce(sum(calls), 0)::bigint as n from pg_stat_statements where toplevel and query !~* 'pg_stat_statements'",
  );
  return Number(rows[0]?.n ?? 0);
}
