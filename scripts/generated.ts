// The generated artefacts that show the contract: db/schema.sql (pg_dump of our schemas) and
// web/schema.graphql (PostGraphile's schema, printed). Written by `npm run db:dump`, checked in tests.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { lexicographicSortSchema, printSchema } from "graphql";
import pg from "pg";
import { makeSchema } from "postgraphile";
import { loadConfig } from "../core/config.ts";
import { withCredentials } from "../core/database.ts";
import { makeVerifier } from "../web/src/server/auth.ts";
import { makePreset } from "../web/src/server/graphql/index.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
export const SCHEMA_SQL = join(root, "db/schema.sql");
export const SCHEMA_GRAPHQL = join(root, "web/schema.graphql");

export function dumpSchemaSql(binDir: string | null, url: string): string {
  const out = execFileSync(
    binDir ? join(binDir, "pg_dump") : "pg_dump",
    ["--schema-only", "--no-owner", "-n", "app_public", "-n", "app_hidden", "-n", "app_private", url],
    { maxBuffer: 64 * 1024 * 1024 },
  ).toString();
  // Drop lines that vary from run to run or between minor versions.
  return `${out
    .split("\n")
    .filter((l) => !/^-- Dumped (from|by)/.test(l) && !/^\\(un)?restrict /.test(l))
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim()}\n`;
}

export async function printGraphqlSchema(url: string, authenticatorPassword: string): Promise<string> {
  const config = loadConfig({ NODE_ENV: "test", AUTHENTICATOR_PASSWORD: authenticatorPassword });
  const pool = new pg.Pool({ connectionString: withCredentials(url, "authenticator", authenticatorPassword), max: 2 });
  try {
    const { schema } = await makeSchema(makePreset({ config, pool, settingsFor: makeVerifier(config) }));
    return `${printSchema(lexicographicSortSchema(schema)).trim()}\n`;
  } finally {
    await pool.end();
  }
}

interface ClusterLike {
  binDir: string | null;
}

export async function generate(cluster: ClusterLike, url: string, authenticatorPassword = "authenticator-dev-password") {
  return { sql: dumpSchemaSql(cluster.binDir, url), graphql: await printGraphqlSchema(url, authenticatorPassword) };
}

export async function writeGenerated(cluster: ClusterLike, url: string, authenticatorPassword?: string): Promise<void> {
  const { sql, graphql } = await generate(cluster, url, authenticatorPassword);
  writeFileSync(SCHEMA_SQL, sql);
  writeFileSync(SCHEMA_GRAPHQL, graphql);
  console.error("wrote db/schema.sql and web/schema.graphql");
}

/** Names of the generated files that differ from what the migrations produce now. */
export async function checkGenerated(cluster: ClusterLike, url: string, authenticatorPassword?: string): Promise<string[]> {
  const { sql, graphql } = await generate(cluster, url, authenticatorPassword);
  const stale: string[] = [];
  const read = (p: string) => {
    try {
      return readFileSync(p, "utf8");
    } catch {
      return "";
    }
  };
  if (read(SCHEMA_SQL) !== sql) stale.push("db/schema.sql");
  if (read(SCHEMA_GRAPHQL) !== graphql) stale.push("web/schema.graphql");
  return stale;
}
