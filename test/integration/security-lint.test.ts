// The SQL lint suite (db/lint/*.sql: splinter's rule catalogue as it applies here, plus our own rules)
// against a migrated database. Every ERROR fails its rule's test; every WARN must be listed, with its
// reason, in docs/security.md ("Remaining warnings"); INFO is printed only.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, TEMPLATE_DB, type TestDatabase } from "../support/testdb.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const rules = readdirSync(`${root}/db/lint`)
  .filter((f) => f.endsWith(".sql"))
  .sort();
const docs = readFileSync(`${root}/docs/security.md`, "utf8");
const warningsSection = docs.slice(docs.indexOf("## Remaining warnings"));

interface Finding {
  rule: string;
  level: "ERROR" | "WARN" | "INFO";
  object: string;
  detail: string;
}

let db: TestDatabase;
let client: pg.Client;
const findings = new Map<string, Finding[]>();

beforeAll(async () => {
  db = await createTestDatabase();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  // CREATE DATABASE ... TEMPLATE does not copy database privileges: TEMP is checked on the template
  // the runner migrated (the clone's ACL is back to PostgreSQL's defaults).
  await client.query(`set lint.database = '${TEMPLATE_DB}'`);
  for (const f of rules) {
    const { rows } = await client.query<Finding>(readFileSync(`${root}/db/lint/${f}`, "utf8"));
    findings.set(f, rows);
  }
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

describe("db/lint", () => {
  it("has the rule catalogue", () => {
    expect(rules.length).toBeGreaterThanOrEqual(20);
  });

  for (const f of rules) {
    it(f.replace(/\.sql$/, ""), () => {
      const rows = findings.get(f) ?? [];
      const info = rows.filter((r) => r.level === "INFO");
      if (info.length) console.log(`${f}: ${info.length} INFO\n${info.map((r) => `  ${r.object}: ${r.detail}`).join("\n")}`);
      const errors = rows.filter((r) => r.level === "ERROR").map((r) => `${r.object}: ${r.detail}`);
      expect(errors, `${f}: ${errors.length} ERROR`).toEqual([]);
      const unlisted = rows
        .filter((r) => r.level === "WARN")
        .filter((r) => !warningsSection.split("\n").some((line) => line.includes(`\`${r.rule}\``) && line.includes(`\`${r.object}\``)))
        .map((r) => `${r.rule} ${r.object}: ${r.detail}`);
      expect(unlisted, "warnings not listed in docs/security.md (## Remaining warnings)").toEqual([]);
    });
  }

  it("every warning listed in docs/security.md still occurs (the list does not go stale)", () => {
    const warned = [...findings.values()].flat().filter((r) => r.level === "WARN");
    const listed = [...warningsSection.matchAll(/^\| `([a-z_]+)` \| `([^`]+)` \|/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.filter((l) => !warned.some((w) => `${w.rule} ${w.object}` === l))).toEqual([]);
  });
});
