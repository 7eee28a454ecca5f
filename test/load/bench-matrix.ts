// `npm run bench matrix [--only=writes,graphql,gifts,chat,join,tokens] [--json=bench-matrix.json]`
// Every scenario in smoke sizes, one after another, each in its own process (its own throwaway
// cluster): one table with every row each scenario printed, and a JSON file with the same (machine,
// date, each scenario's arguments, duration, exit code and tables) to keep next to docs/benchmarks.md.
// Smoke sizes are for seeing that every path still works and roughly where it stands, in a few
// minutes; the figures of record come from the full runs in docs/benchmarks.md.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { currentMigrationFiles } from "../../db/tools.ts";

function arg(args: string[], name: string, def: string): string {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? (a.slice(name.length + 3) ?? def) : def;
}

/** Smoke sizes: each scenario in well under a minute on 2 cores. */
const SMOKE: Record<string, string[]> = {
  writes: ["--seconds=3", "--warmup=1"],
  graphql: ["--seconds=2", "--warmup=1"],
  gifts: ["--gifts=1000", "--rows=10000", "--lag-seconds=3", "--settle=10000", "--bomb-clients=8"],
  chat: ["--seconds=2", "--viewers=200", "--gql=20", "--fanout-seconds=3", "--naive-viewers=20", "--processes=1"],
  join: ["--joins=300", "--seconds=3", "--naive-joins=300", "--processes=1"],
  tokens: ["--requests=300", "--users=50"],
};

interface Table {
  header: string[];
  rows: string[][];
}

function tables(stdout: string): Table[] {
  const out: Table[] = [];
  let cur: Table | null = null;
  for (const line of stdout.split("\n")) {
    // Markdown tables (`| a | b |`) and the plain `a | b | c` tables some scenarios print.
    if (!line.startsWith("|") && line.split(" | ").length < 3) {
      cur = null;
      continue;
    }
    const cells = line
      .replace(/^\|/, "")
      .replace(/\|\s*$/, "")
      .split("|")
      .map((c) => c.trim());
    if (!cur) {
      cur = { header: cells, rows: [] };
      out.push(cur);
    } else if (!cells.every((c) => /^:?-+:?$/.test(c))) cur.rows.push(cells);
  }
  return out;
}

function runScenario(name: string, args: string[]): Promise<{ code: number; stdout: string; seconds: number }> {
  const bench = fileURLToPath(new URL("./bench.ts", import.meta.url));
  const t0 = performance.now();
  // Every scenario measures this tree: the working migration too (unless TEST_CURRENT says otherwise).
  const current = currentMigrationFiles();
  const env = { ...process.env, ...(process.env.TEST_CURRENT === undefined && current.length ? { TEST_CURRENT: current.join(",") } : {}) };
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bench, name, ...args], { stdio: ["ignore", "pipe", "inherit"], env });
    let stdout = "";
    p.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    p.on("exit", (code) => resolve({ code: code ?? 1, stdout, seconds: (performance.now() - t0) / 1000 }));
  });
}

export async function run(args: string[]): Promise<void> {
  const only = arg(args, "only", Object.keys(SMOKE).join(",")).split(",");
  const jsonOut = arg(args, "json", "bench-matrix.json");
  const startedAt = new Date();
  const results: { scenario: string; args: string[]; code: number; seconds: number; tables: Table[] }[] = [];
  for (const name of only) {
    const smoke = SMOKE[name];
    if (!smoke) throw new Error(`matrix: unknown scenario ${name} (${Object.keys(SMOKE).join(", ")})`);
    console.error(`matrix: ${name} ${smoke.join(" ")}`);
    const r = await runScenario(name, smoke);
    results.push({ scenario: name, args: smoke, code: r.code, seconds: r.seconds, tables: tables(r.stdout) });
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
  console.log(
    `\nBenchmark matrix (smoke sizes): ${startedAt.toISOString()}, ${machine}, Node ${process.version}, load average at the end ${loadavg()[0]?.toFixed(1)}\n`,
  );
  console.log("| scenario | exit | s | row | figures |");
  console.log("| --- | ---: | ---: | --- | --- |");
  for (const r of results) {
    if (r.tables.length === 0) console.log(`| ${r.scenario} | ${r.code} | ${r.seconds.toFixed(0)} | (no table) | |`);
    for (const t of r.tables)
      for (const row of t.rows)
        console.log(
          `| ${r.scenario} | ${r.code} | ${r.seconds.toFixed(0)} | ${row[0] ?? ""} | ${row
            .slice(1)
            .map((c, i) => `${t.header[i + 1] ?? ""}: ${c}`)
            .join("; ")} |`,
        );
  }
  writeFileSync(jsonOut, `${JSON.stringify({ scenario: "matrix", startedAt, machine, node: process.version, results }, null, 2)}\n`);
  console.log(`\nwrote ${jsonOut}`);
  if (results.some((r) => r.code !== 0)) process.exitCode = 1;
}
