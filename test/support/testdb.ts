// Databases for tests: the runner (test/run.ts) starts one throwaway cluster and builds a migrated
// template; every test file clones its own database from it, so files run in parallel, in any order.
import { randomBytes } from "node:crypto";
import pg from "pg";

export const TEMPLATE_DB = "tc_template";
export const TEST_AUTHENTICATOR_PASSWORD = "authenticator-test-password";

export interface TestDatabase {
  name: string;
  /** Superuser connection to the clone. */
  url: string;
  drop(): Promise<void>;
}

export function clusterUrl(): string {
  const url = process.env.TEST_CLUSTER_URL;
  if (!url) throw new Error("TEST_CLUSTER_URL is not set: run tests with `npm test` (it provisions PostgreSQL)");
  return url;
}

export function dbUrl(base: string, name: string): string {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function cloneDatabase(base: string, prefix = "t"): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString("hex")}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${TEMPLATE_DB}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: dbUrl(base, name),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A fresh migrated database for one test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  return await cloneDatabase(clusterUrl());
}
