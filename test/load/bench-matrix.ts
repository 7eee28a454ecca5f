// `npm run bench matrix [--smoke] [--only=writes,gifts,...] [--10m] [--parallel=N] [--json=bench-matrix.json] [--docs]`
// `npm run bench matrix --from=bench-matrix.json --docs`   (rewrite docs/benchmarks.md from a result file)
// The crash matrix of the old system and every budget (docs/architecture.md "Budgets") in one command:
// each scenario (bench-<name>.ts) runs in its own process on its own throwaway cluster and hands its
// rows (test/load/matrix-row.ts: load, result, budget, PASS/FAIL, throughput, p50/p99, server CPU and
// database statements per operation, and the naive baseline and pgbench floor measured in the same
// run) to this runner through a JSON-lines file. One table at the end, a JSON result file, and with
// --docs the matrix section of docs/benchmarks.md regenerated from that file.
//   full (default)  the sizes of record (10,000 sockets, 1M ledger rows, 5,000-socket gift bomb, ...),
//                   one scenario at a time; ~15-25 min on 2 cores. --10m adds the 10M-row leaderboard.
//   --smoke         tiny sizes, three scenarios at a time: every path and every row still runs (CI runs
//                   it inside `npm test`, < 2 min), its figures mean nothing
// Scenario logs go to <json>.logs/<scenario>.log; a progress bar shows what runs and what is left.
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { currentMigrationFiles } from "../../db/tools.ts";
import { fmt, type MatrixRow } from "./matrix-row.ts";

function arg(args: string[], name: string, def: string): string {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) || def : def;
}

interface Scenario {
  smoke: string[];
  full: string[];
  /** Expected wall seconds (progress bar). */
  smokeS: number;
  fullS: number;
}

/** In the order the old crash matrix and the budget table list them. */
export const SCENARIOS: Record<string, Scenario> = {
  join: {
    smoke: ["--joins=200", "--seconds=2", "--naive-joins=100", "--processes=1"],
    full: ["--joins=10000", "--seconds=10"],
    smokeS: 20,
    fullS: 70,
  },
  chat: {
    smoke: ["--seconds=1", "--senders=200", "--viewers=100", "--gql=10", "--fanout-seconds=2", "--naive-viewers=10", "--processes=1"],
    full: ["--viewers=10000", "--gql=1000", "--fanout-seconds=8"],
    smokeS: 30,
    fullS: 200,
  },
  writes: { smoke: ["--seconds=1", "--warmup=0"], full: ["--seconds=5", "--warmup=1"], smokeS: 25, fullS: 50 },
  bomb: { smoke: ["--smoke"], full: [], smokeS: 25, fullS: 150 },
  gifts: {
    smoke: ["--gifts=200", "--concurrency=4", "--bomb-clients=8", "--rows=10000", "--lag-seconds=2", "--settle=10000"],
    full: ["--rows=10000,1000000"],
    smokeS: 40,
    fullS: 420,
  },
  control: { smoke: ["--smoke"], full: [], smokeS: 30, fullS: 120 },
  tokens: { smoke: ["--requests=200", "--users=20"], full: [], smokeS: 15, fullS: 40 },
  crash: { smoke: ["--smoke"], full: [], smokeS: 40, fullS: 180 },
  graphql: { smoke: ["--seconds=1", "--warmup=0", "--only=gift,healthz"], full: ["--seconds=4", "--rounds=2"], smokeS: 20, fullS: 60 },
  batch: { smoke: ["--sizes=1,16", "--gifts=64"], full: [], smokeS: 15, fullS: 90 },
};

export interface ScenarioResult {
  scenario: string;
  args: string[];
  code: number;
  seconds: number;
  rows: MatrixRow[];
  log: string;
}

export interface MatrixResult {
  scenario: "matrix";
  mode: "smoke" | "full";
  startedAt: string;
  finishedAt: string;
  machine: string;
  node: string;
  loadAverage: { start: number; end: number };
  args: string[];
  scenarios: ScenarioResult[];
}

const isTty = process.stderr.isTTY === true;

class Progress {
  private readonly t0 = performance.now();
  private readonly running = new Map<string, number>();
  private done = 0;
  private doneS = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Expected wall seconds of the whole run. */
  sumS = 1;
  private readonly total: number;
  private readonly estimate: (name: string) => number;
  constructor(total: number, estimate: (name: string) => number) {
    this.total = total;
    this.estimate = estimate;
    if (isTty) this.timer = setInterval(() => this.draw(), 500);
  }
  start(name: string) {
    this.running.set(name, performance.now());
    if (!isTty) console.error(`matrix: [${this.done}/${this.total}] ${name} started`);
    this.draw();
  }
  end(name: string, code: number, rows: number) {
    const started = this.running.get(name) ?? performance.now();
    this.running.delete(name);
    this.done++;
    this.doneS += this.estimate(name);
    const secs = (performance.now() - started) / 1000;
    this.clear();
    console.error(
      `matrix: [${this.done}/${this.total}] ${name} ${code === 0 ? "done" : `FAILED (exit ${code})`} in ${secs.toFixed(0)} s, ${rows} rows`,
    );
    this.draw();
  }
  private clear() {
    if (isTty) process.stderr.write("\r\x1b[2K");
  }
  private draw() {
    if (!isTty) return;
    const totalS = Math.max(1, this.sumS);
    let partial = 0;
    for (const [n, at] of this.running) partial += Math.min(this.estimate(n) * 0.95, (performance.now() - at) / 1000);
    const frac = Math.min(1, (this.doneS + partial) / totalS);
    const width = 30;
    const filled = Math.round(frac * width);
    const elapsed = (performance.now() - this.t0) / 1000;
    const left = frac > 0.02 ? (elapsed / frac) * (1 - frac) : totalS - elapsed;
    const mmss = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}`;
    this.clear();
    process.stderr.write(
      `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)} %  ${this.done}/${this.total} done  running: ${[...this.running.keys()].join(", ") || "-"}  ${mmss(elapsed)} elapsed, ~${mmss(Math.max(0, left))} left`,
    );
  }
  stop() {
    if (this.timer) clearInterval(this.timer);
    this.clear();
  }
}

/** Process groups of the scenarios running now (each is spawned detached: its server children too). */
const groups = new Set<number>();
let forwarding = false;
function forwardSignals(): void {
  if (forwarding) return;
  forwarding = true;
  for (const [sig, code] of [
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ] as const)
    process.on(sig, () => {
      for (const g of groups) {
        try {
          process.kill(-g, "SIGTERM");
        } catch {}
      }
      // Each scenario stops its clusters on SIGTERM (test/support/cluster.ts); give them a moment.
      setTimeout(() => process.exit(code), 3000).unref();
    });
}

function runScenario(name: string, args: string[], logDir: string, timeoutS: number): Promise<ScenarioResult> {
  const bench = fileURLToPath(new URL("./bench.ts", import.meta.url));
  const t0 = performance.now();
  const rowsFile = join(logDir, `${name}.rows.jsonl`);
  const logFile = join(logDir, `${name}.log`);
  rmSync(rowsFile, { force: true });
  // Every scenario measures this tree: the working migration too (unless TEST_CURRENT says otherwise).
  const current = currentMigrationFiles();
  const env = {
    ...process.env,
    BENCH_ROWS_FILE: rowsFile,
    ...(process.env.TEST_CURRENT === undefined && current.length ? { TEST_CURRENT: current.join(",") } : {}),
  };
  return new Promise((resolve) => {
    const out = createWriteStream(logFile);
    const p = spawn(process.execPath, [bench, name, ...args], { stdio: ["ignore", "pipe", "pipe"], env, detached: true });
    const pid = p.pid ?? 0;
    groups.add(pid);
    forwardSignals();
    p.stdout.pipe(out, { end: false });
    p.stderr.pipe(out, { end: false });
    // A scenario that hangs is stopped (SIGTERM: it stops its clusters; SIGKILL 15 s later) and reported.
    let timedOut = false;
    const kill = (sig: NodeJS.Signals) => {
      try {
        process.kill(-pid, sig);
      } catch {}
    };
    const timer = setTimeout(() => {
      timedOut = true;
      out.write(`\nmatrix: ${name} did not finish within ${timeoutS} s: stopped\n`);
      kill("SIGTERM");
      setTimeout(() => kill("SIGKILL"), 15_000).unref();
    }, timeoutS * 1000);
    p.on("exit", (code) => {
      clearTimeout(timer);
      groups.delete(pid);
      // Whatever the scenario left in its group (servers it started) goes with it.
      kill("SIGKILL");
      if (timedOut) code = 124;
      out.end();
      const rows: MatrixRow[] = existsSync(rowsFile)
        ? readFileSync(rowsFile, "utf8")
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l) as MatrixRow)
        : [];
      resolve({ scenario: name, args, code: code ?? 1, seconds: (performance.now() - t0) / 1000, rows, log: logFile });
    });
  });
}

const cell = (s: string | undefined) => (s ?? "-").replaceAll("|", "\\|").replaceAll("\n", " ");

/** The one table: every row of every scenario, with its budget and verdict. */
export function matrixTable(result: MatrixResult): string {
  const lines = [
    "| scenario | row | load | result | p50 / p99 (ms) | server CPU/op (ms) | DB statements/op | naive baseline (same run) | pgbench floor (same run) | budget | verdict |",
    "| --- | --- | --- | --- | ---: | ---: | ---: | --- | --- | --- | --- |",
  ];
  for (const s of result.scenarios) {
    if (s.rows.length === 0 || s.code !== 0)
      lines.push(
        `| ${s.scenario} | (the scenario ${s.code === 0 ? "printed no rows" : `exited with ${s.code}`}) | ${cell(s.args.join(" "))} | see ${cell(s.log)} | - | - | - | - | - | runs and reports | **FAIL** |`,
      );
    for (const r of s.rows)
      lines.push(
        `| ${r.scenario} | ${cell(r.row)} | ${cell(r.load)} | ${cell(r.result)} | ${r.p50Ms == null && r.p99Ms == null ? "-" : `${fmt(r.p50Ms)} / ${fmt(r.p99Ms)}`} | ${fmt(r.serverCpuMs, 3)} | ${fmt(r.dbStatements, 3)} | ${cell(r.naive)} | ${cell(r.floor)} | ${cell(r.budget)} | ${r.verdict === "FAIL" ? "**FAIL**" : r.verdict} |`,
      );
  }
  return lines.join("\n");
}

export function verdicts(result: MatrixResult) {
  const rows = result.scenarios.flatMap((s) => s.rows);
  return {
    pass: rows.filter((r) => r.verdict === "PASS").length,
    fail: rows.filter((r) => r.verdict === "FAIL").length + result.scenarios.filter((s) => s.code !== 0 || s.rows.length === 0).length,
    info: rows.filter((r) => r.verdict === "INFO").length,
  };
}

function header(r: MatrixResult): string {
  const v = verdicts(r);
  const secs = (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000;
  return `Benchmark matrix (${r.mode}${r.mode === "smoke" ? " sizes: checks the harness, the figures mean nothing" : " sizes"}): ${r.startedAt} → ${r.finishedAt} (${Math.round(secs / 60)} min), ${r.machine}, Node ${r.node}, load average ${r.loadAverage.start.toFixed(1)} at the start and ${r.loadAverage.end.toFixed(1)} at the end. ${v.pass} PASS, ${v.fail} FAIL, ${v.info} without a budget (INFO). Arguments: \`${r.args.join(" ") || "(none)"}\`; per scenario: ${r.scenarios.map((s) => `${s.scenario} \`${s.args.join(" ") || "(defaults)"}\` ${s.seconds.toFixed(0)} s`).join("; ")}.`;
}

const DOC = fileURLToPath(new URL("../../docs/benchmarks.md", import.meta.url));
const START = "<!-- matrix:start (generated by `npm run bench matrix -- --docs` from bench-matrix.json; do not edit by hand) -->";
const END = "<!-- matrix:end -->";

/** Rewrite the generated section of docs/benchmarks.md from a result. */
export function writeDocs(r: MatrixResult, file = DOC): void {
  if (r.mode !== "full") throw new Error("matrix: a smoke run's figures mean nothing: not written to the docs");
  const text = readFileSync(file, "utf8");
  const section = `${START}\n\n${header(r)}\n\n${matrixTable(r)}\n\n${END}`;
  const starts = text.split("<!-- matrix:start").length - 1;
  const ends = text.split(END).length - 1;
  const a = text.indexOf("<!-- matrix:start");
  const b = text.indexOf(END);
  if (starts > 1 || ends > 1 || starts !== ends || (starts === 1 && b < a))
    throw new Error(`matrix: ${file} must hold exactly one matrix section (start and end markers, in order): not rewritten`);
  let next: string;
  if (starts === 1) next = `${text.slice(0, a)}${section}${text.slice(b + END.length)}`;
  else {
    // First time: after the introduction (the first "## " heading).
    const at = text.indexOf("\n## ");
    next =
      at >= 0
        ? `${text.slice(0, at)}\n\n## The matrix: every budget in one run\n\n${section}\n${text.slice(at)}`
        : `${text}\n\n## The matrix\n\n${section}\n`;
  }
  writeFileSync(file, next);
}

export async function run(args: string[]): Promise<void> {
  const jsonOut = arg(args, "json", "bench-matrix.json");
  const from = arg(args, "from", "");
  if (from) {
    const r = JSON.parse(readFileSync(from, "utf8")) as MatrixResult;
    console.log(`${header(r)}\n\n${matrixTable(r)}`);
    if (args.includes("--docs")) {
      writeDocs(r);
      console.log(`\nwrote ${DOC}`);
    }
    return;
  }
  const smoke = args.includes("--smoke");
  const names = arg(args, "only", Object.keys(SCENARIOS).join(",")).split(",").filter(Boolean);
  for (const n of names) if (!SCENARIOS[n]) throw new Error(`matrix: unknown scenario ${n} (${Object.keys(SCENARIOS).join(", ")})`);
  const parallel = Math.max(1, Number(arg(args, "parallel", smoke ? "3" : "1")));
  const logDir = `${jsonOut}.logs`;
  mkdirSync(logDir, { recursive: true });
  const argsFor = (n: string) => {
    const s = SCENARIOS[n] as Scenario;
    if (smoke) return s.smoke;
    if (n === "gifts" && args.includes("--10m")) return ["--rows=10000,1000000,10000000"];
    return s.full;
  };
  const est = (n: string) => {
    const s = SCENARIOS[n] as Scenario;
    return (smoke ? s.smokeS : s.fullS) * (n === "gifts" && args.includes("--10m") ? 4 : 1);
  };
  const startedAt = new Date();
  const load0 = loadavg()[0] ?? 0;
  const progress = new Progress(names.length, est);
  progress.sumS = names.reduce((s, n) => s + est(n), 0) / parallel;
  // Longest first when running several at once, so the tail is short.
  const queue = parallel > 1 ? [...names].sort((a, b) => est(b) - est(a)) : [...names];
  const results = new Map<string, ScenarioResult>();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let n = queue.shift(); n; n = queue.shift()) {
        progress.start(n);
        // Generous: a hang, not a slow machine, is what the timeout is for.
        const r = await runScenario(n, argsFor(n), logDir, Math.max(180, est(n) * 5));
        results.set(n, r);
        progress.end(n, r.code, r.rows.length);
      }
    }),
  );
  progress.stop();
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
  const result: MatrixResult = {
    scenario: "matrix",
    mode: smoke ? "smoke" : "full",
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine,
    node: process.version,
    loadAverage: { start: load0, end: loadavg()[0] ?? 0 },
    args,
    scenarios: names.map((n) => results.get(n) as ScenarioResult),
  };
  writeFileSync(jsonOut, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\n${header(result)}\n\n${matrixTable(result)}\n\nwrote ${jsonOut} (scenario logs in ${logDir}/)`);
  for (const s of result.scenarios)
    if (s.code !== 0) {
      const tail = readFileSync(s.log, "utf8").split("\n").slice(-15).join("\n");
      console.error(`\n${s.scenario} exited with ${s.code}; the end of ${s.log}:\n${tail}`);
    }
  if (args.includes("--docs")) {
    if (smoke) console.error("matrix: --docs ignored for a smoke run (its figures mean nothing)");
    else {
      writeDocs(result);
      console.log(`wrote ${DOC}`);
    }
  }
  if (result.scenarios.some((s) => s.code !== 0 || s.rows.length === 0)) process.exitCode = 1;
}
