// The README's pgTAP recipe for DBAs works exactly as printed, on a database that the app itself
// has migrated and run (graphile-worker's real schema in place), not only on the runner's template.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, expect, it } from "vitest";
import { applyCurrentMigration } from "../../db/tools.ts";
import { startTestApp } from "../support/app.ts";
import { clusterUrl, dbUrl } from "../support/testdb.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const name = `dba_${randomBytes(5).toString("hex")}`;

/** The shell block of the README's "For DBAs" section, verbatim. */
function readmeRecipe(readme = readFileSync(`${root}/README.md`, "utf8")): string {
  const section = readme.slice(readme.indexOf("## For DBAs"));
  const m = /```sh\n([\s\S]*?)```/.exec(section);
  if (!m?.[1]) throw new Error("README.md has no sh block under '## For DBAs'");
  return m[1];
}

afterAll(async () => {
  const c = new pg.Client({ connectionString: clusterUrl() });
  await c.connect();
  await c.query(`drop database if exists ${name} with (force)`);
  await c.end();
});

it("the README's pgTAP recipe passes on a database the app migrated and ran", { timeout: 240_000 }, async () => {
  const admin = new pg.Client({ connectionString: clusterUrl() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = dbUrl(clusterUrl(), name);
  // The app's own start: roles, migrations, graphile-worker's schema, auth settings.
  const app = await startTestApp({}, { db: { name, url, drop: async () => {} } });
  await app.stop();
  // The app applies committed migrations only; the pgTAP files already test the working migration
  // (as the runner's template has it). Nothing to do once it is committed.
  await applyCurrentMigration(url, () => {}, process.env.TEST_CURRENT?.split(",").filter(Boolean));
  const recipe = readmeRecipe();
  const { code, out } = await new Promise<{ code: number; out: string }>((resolve) => {
    execFile(
      "bash",
      ["-euo", "pipefail", "-c", recipe],
      { cwd: root, env: { ...process.env, DB: url }, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}\n${stderr}` }),
    );
  });
  expect(out, out.slice(-3000)).toMatch(/^Result: PASS$/m);
  expect(code).toBe(0);
  // The worker's schema was the real one (a view over its private tables), not a stand-in.
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const { rows } = await c.query("select relkind from pg_class where oid = 'graphile_worker.jobs'::regclass");
  await c.end();
  expect(rows[0]?.relkind).toBe("v");
});
