// `npm test`: every suite, against a throwaway PostgreSQL this script provisions and tears down.
//   1. checks: formatter + linter (biome), TypeScript, svelte-check, generated schema files current
//   2. pgTAP: db/test/NN-*.sql, each in its own database cloned from a migrated template
//   3. vitest: unit, integration, e2e (headless Chromium) — test files clone their own databases
//   4. bench: `npm run bench matrix -- --smoke` — every benchmark scenario runs in tiny sizes and
//      reports its matrix rows, and docs/benchmarks.md's matrix section can be generated from them
//      (the harness cannot rot; its figures mean nothing and its verdicts are not asserted)
// Ends with one plain line: `N passed, N failed`.
// Options: --only=checks,pgtap,vitest,bench   and any further args are passed to vitest (file filters).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runMigrations as installWorkerSchema, Logger } from "graphile-worker";
import pg from "pg";
import { Parser } from "tap-parser";
import { applySourceFiles, sourceCoverage } from "../db/source.ts";
import { applyCurrentMigration, asOwner, currentMigrationFiles, ensureDatabase, migrateDatabase, setupRoles } from "../db/tools.ts";
import { checkGenerated, dumpSchemaSql } from "../scripts/generated.ts";
import { type MatrixResult, SCENARIOS, writeDocs } from "./load/bench-matrix.ts";
import { startCluster } from "./support/cluster.ts";
import { cloneDatabase, dbUrl, TEMPLATE_DB, TEST_AUTHENTICATOR_PASSWORD } from "./support/testdb.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const onlyArg = args.find((a) => a.startsWith("--only="));
const only = onlyArg ? new Set(onlyArg.slice(7).split(",")) : null;
const vitestArgs = args.filter((a) => !a.startsWith("--only="));
const want = (suite: string) => !only || only.has(suite);

interface Outcome {
  suite: string;
  name: string;
  ok: boolean;
  detail?: string;
}
const outcomes: Outcome[] = [];
const t0 = Date.now();
const say = (msg: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${msg}`);

function record(suite: string, name: string, ok: boolean, detail?: string) {
  outcomes.push({ suite, name, ok, detail });
  if (!ok) console.log(`  FAIL ${suite}: ${name}${detail ? `\n${detail.replace(/^/gm, "       ")}` : ""}`);
}

function run(
  cmd: string,
  argv: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; timeoutMs?: number; echo?: boolean } = {},
) {
  return new Promise<{ code: number; out: string }>((resolve) => {
    const p = spawn(cmd, argv, { cwd: opts.cwd ?? root, env: { ...process.env, ...opts.env }, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    const onData = (d: Buffer) => {
      out += d.toString();
      if (opts.echo) process.stdout.write(d);
    };
    p.stdout.on("data", onData);
    p.stderr.on("data", onData);
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          out += `\n(killed after ${opts.timeoutMs} ms)`;
          p.kill("SIGKILL");
        }, opts.timeoutMs)
      : null;
    p.on("error", (e) => {
      out += String(e);
    });
    p.on("close", (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? 1, out });
    });
    p.stdin.end(opts.input ?? "");
  });
}

const bin = (name: string) => join(root, "node_modules/.bin", name);

/** The first lines where two texts differ, as a short unified-style excerpt. */
function firstDifference(a: string, b: string): string {
  const al = a.split("\n");
  const bl = b.split("\n");
  let i = 0;
  while (i < al.length && al[i] === bl[i]) i++;
  return [`at line ${i + 1} of the dump:`, ...al.slice(i, i + 6).map((l) => `- ${l}`), ...bl.slice(i, i + 6).map((l) => `+ ${l}`)].join(
    "\n",
  );
}

/**
 * db/src never drifts from what shipped: every source file applied to a fully migrated database leaves
 * its schema dump identical, and every function, view and policy has exactly one source file.
 */
async function sourceMatchesSchema(cluster: { binDir: string | null; url(db?: string): string }) {
  const name = "db/src matches the migrated schema (applying every source file leaves the dump identical)";
  const cover = "every function, view and policy has exactly one file in db/src";
  const db = await cloneDatabase(cluster.url(), "src");
  try {
    const before = dumpSchemaSql(cluster.binDir, db.url);
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const problems = await sourceCoverage(c);
      record("checks", cover, problems.length === 0, problems.join("\n") || undefined);
      await applySourceFiles(c);
    } finally {
      await c.end();
    }
    const after = dumpSchemaSql(cluster.binDir, db.url);
    record(
      "checks",
      name,
      before === after,
      before === after
        ? undefined
        : `${firstDifference(before, after)}\nA file in db/src differs from the migrations: add it to db/migrations/current with --!include`,
    );
  } catch (e) {
    record("checks", name, false, String(e));
  } finally {
    await db.drop();
  }
}

async function checks(cluster: { binDir: string | null; url(db?: string): string }, templateUrl: string) {
  say("checks: biome, tsc, svelte-check, generated schema files, db/src");
  const [biome, tsc, svelte] = await Promise.all([
    run(bin("biome"), ["check", "."]),
    run(bin("tsc"), ["-p", "."]),
    run("npm", ["run", "-s", "check", "-w", "web"]),
    sourceMatchesSchema(cluster),
  ]);
  record("checks", "biome check (format + lint)", biome.code === 0, biome.code ? biome.out.slice(-4000) : undefined);
  record("checks", "tsc --noEmit (strict)", tsc.code === 0, tsc.code ? tsc.out.slice(-4000) : undefined);
  record("checks", "svelte-check (web)", svelte.code === 0, svelte.code ? svelte.out.slice(-4000) : undefined);
  try {
    const stale = await checkGenerated(cluster, templateUrl, TEST_AUTHENTICATOR_PASSWORD);
    record(
      "checks",
      "db/schema.sql and web/schema.graphql are current",
      stale.length === 0,
      stale.length ? `stale: ${stale.join(", ")} — run \`npm run db:dump\` and commit` : undefined,
    );
  } catch (e) {
    record("checks", "db/schema.sql and web/schema.graphql are current", false, String(e));
  }
}

async function pgtapFile(clusterUrl: string, psql: string, file: string) {
  const db = await cloneDatabase(clusterUrl, "tap");
  try {
    const { code, out } = await run(psql, ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-f", join(root, "db/test", file), db.url], {
      env: { PGOPTIONS: "-c search_path=public,tap,tests -c client_min_messages=warning" },
      timeoutMs: 120_000,
    });
    const parser = new Parser();
    const done = new Promise<NonNullable<InstanceType<typeof Parser>["results"]>>((resolve) => parser.on("complete", resolve));
    parser.end(out);
    const results = await done;
    const failures = results.failures.filter((f) => "name" in f && f.ok === false);
    const passed = results.pass;
    let failed = failures.length;
    for (const f of failures)
      record("pgtap", `${file}: ${"name" in f ? f.name : "?"}`, false, "diag" in f ? JSON.stringify(f.diag) : undefined);
    const planned = results.plan.end ?? 0;
    if (code === 0 && planned !== results.count) {
      failed++;
      record("pgtap", `${file}: planned ${planned} tests but ran ${results.count}`, false);
    } else if (code !== 0 || (!results.ok && failed === 0)) {
      failed++;
      record("pgtap", `${file}: ran to completion with its plan`, false, out.slice(-3000));
    }
    for (let i = 0; i < passed; i++) outcomes.push({ suite: "pgtap", name: file, ok: true });
    return { passed, failed };
  } finally {
    await db.drop();
  }
}

async function pgtap(clusterUrl: string, binDir: string | null) {
  const files = readdirSync(join(root, "db/test"))
    .filter((f) => /^\d+-.*\.sql$/.test(f))
    .sort();
  const psql = binDir ? join(binDir, "psql") : "psql";
  say(`pgTAP: ${files.length} files`);
  const queue = [...files];
  const workers = Array.from({ length: 2 }, async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const r = await pgtapFile(clusterUrl, psql, f);
      say(`  ${f}: ${r.passed} passed, ${r.failed} failed`);
    }
  });
  await Promise.all(workers);
}

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: {
    name: string;
    status: string;
    message?: string;
    assertionResults: { fullName: string; status: string; failureMessages: string[] }[];
  }[];
}

async function vitest(clusterUrl: string) {
  say("vitest: building the web app for end-to-end tests");
  const build = await run("npm", ["run", "-s", "build"], { env: { NODE_ENV: "production" } });
  if (build.code !== 0) {
    record("vitest", "web build (vite build)", false, build.out.slice(-4000));
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "trollcity-vitest-"));
  const outFile = join(dir, "results.json");
  say("vitest: unit, integration and e2e");
  const r = await run(bin("vitest"), ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${outFile}`, ...vitestArgs], {
    env: { TEST_CLUSTER_URL: clusterUrl, TEST_AUTHENTICATOR_PASSWORD, GRAPHILE_ENV: "development", FORCE_COLOR: "0", NO_COLOR: "1" },
    echo: true,
  });
  if (!existsSync(outFile)) {
    record("vitest", "vitest ran", false, r.out.slice(-4000));
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  const json = JSON.parse(readFileSync(outFile, "utf8")) as VitestJson;
  rmSync(dir, { recursive: true, force: true });
  for (const file of json.testResults) {
    const rel = file.name.replace(root, "");
    if (file.status === "failed" && file.assertionResults.length === 0)
      record("vitest", `${rel} (file failed to run)`, false, file.message);
    for (const a of file.assertionResults) {
      if (a.status === "passed") outcomes.push({ suite: "vitest", name: `${rel} > ${a.fullName}`, ok: true });
      else if (a.status === "failed") record("vitest", `${rel} > ${a.fullName}`, false, a.failureMessages.join("\n").slice(0, 3000));
      else record("vitest", `${rel} > ${a.fullName} (${a.status}: nothing in the default run may be skipped)`, false);
    }
  }
  if (r.code !== 0 && !outcomes.some((o) => o.suite === "vitest" && !o.ok)) record("vitest", "vitest exit code", false, r.out.slice(-3000));
}

const quietWorkerLogger = new Logger(() => () => {});

/** The benchmark harness in smoke sizes: every scenario runs and reports well-formed matrix rows. */
async function benchSmoke() {
  say("bench: npm run bench matrix -- --smoke");
  const dir = mkdtempSync(join(tmpdir(), "trollcity-matrix-"));
  const json = join(dir, "bench-matrix.json");
  try {
    const r = await run(process.execPath, [join(root, "test/load/bench.ts"), "matrix", "--smoke", `--json=${json}`], {
      timeoutMs: 8 * 60_000,
    });
    if (!existsSync(json)) return record("bench", "the matrix ran", false, r.out.slice(-3000));
    const result = JSON.parse(readFileSync(json, "utf8")) as MatrixResult;
    for (const name of Object.keys(SCENARIOS)) {
      const s = result.scenarios.find((x) => x.scenario === name);
      const bad = (s?.rows ?? []).filter(
        (row) =>
          !row.row || !row.load || !row.result || !row.budget || !["PASS", "FAIL", "INFO"].includes(row.verdict) || row.scenario !== name,
      );
      // Correctness budgets (nothing lost, audit empty, no viewer publish grant, ...) hold at any size and speed.
      const hardFails = (s?.rows ?? []).filter((row) => row.hard && row.verdict !== "PASS");
      const log = s && existsSync(s.log) ? readFileSync(s.log, "utf8").split("\n").slice(-25).join("\n") : "";
      record(
        "bench",
        `${name} runs in smoke sizes, reports its matrix rows, and its correctness budgets pass`,
        Boolean(s && s.code === 0 && s.rows.length > 0 && bad.length === 0 && hardFails.length === 0),
        s
          ? `exit ${s.code}, ${s.rows.length} rows, ${bad.length} malformed, correctness rows failed: ${hardFails.map((r) => `${r.row}: ${r.result}`).join("; ") || "none"}\n${log}`
          : "did not run",
      );
    }
    // The generator, on a copy of the docs (as if this were a full run): it replaces its own section
    // and leaves every hand-written line as it was.
    const doc = join(dir, "benchmarks.md");
    const original = readFileSync(join(root, "docs/benchmarks.md"), "utf8");
    writeFileSync(doc, original);
    const outside = (t: string) => {
      const a = t.indexOf("<!-- matrix:start");
      const b = t.indexOf("<!-- matrix:end -->");
      return a >= 0 && b > a ? t.slice(0, a) + t.slice(b) : t;
    };
    let ok = false;
    let detail = "";
    try {
      writeDocs({ ...result, mode: "full" }, doc);
      const once = readFileSync(doc, "utf8");
      writeDocs({ ...result, mode: "full" }, doc);
      const twice = readFileSync(doc, "utf8");
      ok =
        once.includes("| scenario | row | load | result |") &&
        once === twice &&
        (original.includes("<!-- matrix:start") ? outside(once) === outside(original) : once.length > original.length);
      detail = ok ? "" : "the generated section changed text outside its markers, or a second run changed it again";
    } catch (e) {
      detail = String(e);
    }
    record("bench", "docs/benchmarks.md's matrix section is generated from the result file (and nothing else changes)", ok, detail);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  say("starting a throwaway PostgreSQL");
  const cluster = await startCluster({ log: say });
  const clusterUrl = cluster.url();
  try {
    await setupRoles(clusterUrl, TEST_AUTHENTICATOR_PASSWORD);
    const templateUrl = dbUrl(clusterUrl, TEMPLATE_DB);
    await ensureDatabase(templateUrl);
    await migrateDatabase(templateUrl);
    const pending = currentMigrationFiles();
    if (pending.length) {
      // TEST_CURRENT=100,200 applies only those files of db/migrations/current (parallel work).
      const onlyCurrent = process.env.TEST_CURRENT?.split(",").filter(Boolean);
      await applyCurrentMigration(asOwner(templateUrl), say, onlyCurrent);
      record(
        "checks",
        "every migration is committed (db/migrations/current is empty)",
        false,
        `uncommitted: ${pending.join(", ")} — run \`npm run db:commit -- <message>\``,
      );
    }
    const c = new pg.Client({ connectionString: templateUrl });
    await c.connect();
    try {
      await c.query("create extension if not exists pg_stat_statements");
      await c.query(`select app_private.configure_auth('test-jwt-secret-0123456789abcdef0123456789', 'trollcity', 900)`);
      if (want("pgtap")) {
        await c.query("create schema if not exists tap; grant usage on schema tap to public");
        await c.query("create extension if not exists pgtap schema tap");
        await c.query("grant execute on all functions in schema tap to public");
      }
      await c.query(readFileSync(join(root, "db/test/helpers/tests.sql"), "utf8"));
    } finally {
      await c.end();
    }
    // graphile-worker's own schema, as the worker installs it at start: tests see the real thing.
    await installWorkerSchema({ connectionString: asOwner(templateUrl), logger: quietWorkerLogger });
    say("template database migrated");
    if (want("checks")) await checks(cluster, templateUrl);
    if (want("pgtap")) await pgtap(clusterUrl, cluster.binDir);
    if (want("vitest")) await vitest(clusterUrl);
    if (want("bench")) await benchSmoke();
  } catch (e) {
    record("runner", "test harness", false, (e as Error).stack ?? String(e));
  } finally {
    await cluster.stop();
  }
  const bySuite = new Map<string, { p: number; f: number }>();
  for (const o of outcomes) {
    const s = bySuite.get(o.suite) ?? { p: 0, f: 0 };
    if (o.ok) s.p++;
    else s.f++;
    bySuite.set(o.suite, s);
  }
  console.log("");
  for (const [suite, s] of bySuite) console.log(`  ${suite.padEnd(8)} ${String(s.p).padStart(5)} passed ${String(s.f).padStart(4)} failed`);
  console.log(`  took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const passed = outcomes.filter((o) => o.ok).length;
  const failed = outcomes.length - passed;
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 || passed === 0 ? 1 : 0;
}

await main();
