// db/src: one current file per function, view, policy block and grant block, by domain. These
// helpers apply them and check that they are exactly what the migrations shipped (npm test).
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import type pg from "pg";
import { srcFolder } from "./tools.ts";

/** Every source file, relative to db/src, in a stable order. */
export function sourceFiles(dir = srcFolder): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith(".sql")) out.push(relative(dir, join(d, e.name)));
    }
  };
  walk(dir);
  return out.sort();
}

/** Apply every source file in one transaction (they are idempotent: create or replace, drop/create policy, revoke/grant). */
export async function applySourceFiles(client: pg.ClientBase): Promise<void> {
  await client.query("begin");
  try {
    await client.query("set local search_path = ''");
    for (const f of sourceFiles()) {
      try {
        await client.query(readFileSync(join(srcFolder, f), "utf8"));
      } catch (e) {
        throw new Error(`db/src/${f}: ${(e as Error).message}`);
      }
    }
    await client.query("commit");
  } catch (e) {
    await client.query("rollback").catch(() => {});
    throw e;
  }
}

interface Defined {
  kind: "function" | "view" | "policy";
  name: string;
  file: string;
}

/** The objects each source file defines, read from its text. */
export function definedObjects(): Defined[] {
  const out: Defined[] = [];
  for (const file of sourceFiles()) {
    const sql = readFileSync(join(srcFolder, file), "utf8");
    for (const m of sql.matchAll(/^create or replace function (\w+\.\w+)\s*\(/gim)) out.push({ kind: "function", name: m[1] ?? "", file });
    for (const m of sql.matchAll(/^create or replace view (\w+\.\w+)/gim)) out.push({ kind: "view", name: m[1] ?? "", file });
    for (const m of sql.matchAll(/^create policy (\w+) on (\w+\.\w+)/gim)) out.push({ kind: "policy", name: `${m[2]}.${m[1]}`, file });
  }
  return out;
}

/**
 * Problems with the source layout: an object in the database without a source file, one defined in
 * two files, or a file that defines something the database does not have.
 */
export async function sourceCoverage(client: pg.ClientBase): Promise<string[]> {
  const { rows } = await client.query<{ kind: Defined["kind"]; name: string }>(`
    select 'function' as kind, n.nspname || '.' || p.proname as name
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname in ('app_public', 'app_hidden', 'app_private')
    union
    select 'view', n.nspname || '.' || c.relname
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname in ('app_public', 'app_hidden', 'app_private') and c.relkind in ('v', 'm')
    union
    select 'policy', schemaname || '.' || tablename || '.' || policyname
      from pg_policies where schemaname in ('app_public', 'app_hidden', 'app_private')`);
  const inDb = new Set(rows.map((r) => `${r.kind} ${r.name}`));
  const files = new Map<string, string[]>();
  for (const d of definedObjects()) {
    const k = `${d.kind} ${d.name}`;
    files.set(k, [...(files.get(k) ?? []), d.file]);
  }
  const problems: string[] = [];
  for (const k of [...inDb].sort()) if (!files.has(k)) problems.push(`${k}: no file in db/src defines it`);
  for (const [k, fs] of [...files].sort()) {
    if (new Set(fs).size > 1) problems.push(`${k}: defined in ${fs.length} files (${fs.join(", ")}); keep one`);
    if (!inDb.has(k))
      problems.push(`${k}: defined in db/src/${fs[0]} but not in the migrated database (add it to a migration with --!include)`);
  }
  return problems;
}
