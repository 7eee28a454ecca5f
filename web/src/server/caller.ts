// The one way to run SQL as the caller (the PostgREST way): a transaction with `role` and
// `request.jwt.claims` set transaction-local from the caller's verified token. GraphQL requests use it
// through graphql/pg-adaptor.ts; routes (features/) call `withCaller` on the `authenticator` pool.
//
// It sends the settings in the same write as the first query. Why: @dataplan/pg's stock adaptor runs
// every request that has pgSettings (all of ours: role + request.jwt.claims) as four round trips:
// `begin`, `select set_config(...)`, the query, `commit`. On this kind of VM each socket write that
// wakes a sleeping peer costs ~0.2 ms of CPU, and those writes were ~30 % of a mutation's server CPU
// (docs/benchmarks.md). So:
//
//   write 1: `begin; select set_config('role', …, true), set_config('request.jwt.claims', …, true)`
//            (one simple-protocol message) + the first query, pipelined behind it (node-postgres
//            `pipeline: true` on the pool) and corked so both leave in one writev;
//   write 2: `commit` (or `rollback`).
//
// Transaction semantics and RLS are those of the stock adaptor: the same `begin`, the same
// transaction-local `set_config` calls (values as escaped literals instead of a JSON parameter), the
// queries run after them inside the transaction. If the settings statement fails, the query fails
// with "current transaction is aborted", the transaction is rolled back and the settings error is the
// one reported. Nested transactions inside use savepoints (@dataplan/pg's client for a connection
// already in a transaction).
import type { Pool, PoolClient } from "pg";
import { makeWithPgClientViaPgClientAlreadyInTransaction, type NodePostgresPgClient } from "postgraphile/adaptors/pg";

/** Settings to run as: `role` and `request.jwt.claims` (auth.ts PgSettings), possibly more. */
export type CallerSettings = Record<string, string | undefined>;

/** What the callback gets: `query({ text, values })` and `withTransaction` (savepoints). */
export type CallerClient = NodePostgresPgClient;

/** Same switch as the stock adaptor: it turns JIT optimisation off on every connection it uses. */
const DISABLE_JIT = process.env.DATAPLAN_PG_DONT_DISABLE_JIT !== "1";
const prepared = new WeakSet<PoolClient>();

/**
 * Run `fn` in one transaction as the caller on `pool` (connected as `authenticator`, created with
 * `pipeline: true`). Commits when `fn` resolves, rolls back when it throws.
 */
export async function withCaller<T>(pool: Pool, settings: CallerSettings, fn: (client: CallerClient) => T | Promise<T>): Promise<T> {
  if (!isPipelined(pool)) throw new Error("withCaller: create the pool with `pipeline: true`");
  const entries = Object.entries(settings).filter((e): e is [string, string] => e[1] != null);
  if (entries.length === 0) throw new Error("withCaller: no settings (an anonymous caller still has role anon)");
  const pgClient = await pool.connect();
  const jit = DISABLE_JIT && !prepared.has(pgClient) ? "set jit_optimize_above_cost = -1; " : "";
  prepared.add(pgClient);
  const stream = pgClient.connection.stream as { cork?: () => void; uncork?: () => void };
  let corked = typeof stream.cork === "function" && typeof stream.uncork === "function";
  if (corked) stream.cork?.();
  const flush = () => {
    if (corked) {
      corked = false;
      stream.uncork?.();
    }
  };
  let setupError: unknown = null;
  // `begin`, then the settings as a prepared statement (one per number of settings: parsed and planned
  // once per connection, not per request), written together in one packet with the first query.
  const claims = {
    name: `tc_caller_settings_${entries.length}`,
    text: `select ${entries.map((_, i) => `set_config($${2 * i + 1}, $${2 * i + 2}, true)`).join(", ")}`,
    values: entries.flat(),
  };
  const setup = Promise.all([pgClient.query(`${jit}begin`), pgClient.query(claims)]).then(
    () => {},
    (e: unknown) => {
      setupError ??= e;
    },
  );
  let broken: Error | undefined;
  try {
    // The connection is now (as far as the queries that follow can tell) inside the transaction.
    const inTransaction = makeWithPgClientViaPgClientAlreadyInTransaction(pgClient, true);
    const result = await inTransaction(null, (client) => fn(flushOnFirstUse(client, flush)));
    flush();
    await setup;
    if (setupError) throw setupError;
    await pgClient.query("commit");
    return result;
  } catch (e) {
    flush();
    await setup;
    try {
      await pgClient.query("rollback");
      await countLoginFailure(pgClient, e);
    } catch (e2) {
      broken = e2 as Error; // the connection is unusable: drop it rather than return it to the pool
    }
    throw setupError ?? e;
  } finally {
    pgClient.release(broken);
  }
}

/**
 * app_public.login cannot record its own failure (its CREDS error rolls the transaction back), so it
 * says what to record in the error's hint and we record it here, as `authenticator`, in a transaction
 * of its own right after the rollback: five failures in the window and the account answers RATEL.
 */
async function countLoginFailure(pgClient: PoolClient, e: unknown): Promise<void> {
  const err = e as { code?: string; hint?: string };
  if (err?.code !== "CREDS" || typeof err.hint !== "string" || !err.hint.startsWith("login_failure:")) return;
  await pgClient.query("select app_hidden.count_login_failure($1)", [err.hint.slice("login_failure:".length)]);
}

export function isPipelined(pool: Pool): boolean {
  return (pool as Pool & { options?: { pipeline?: boolean } }).options?.pipeline === true;
}

/** The first call that reaches the connection sends the corked settings batch with it. */
function flushOnFirstUse(client: NodePostgresPgClient, flush: () => void): NodePostgresPgClient {
  return {
    rawClient: client.rawClient,
    query(opts) {
      try {
        return client.query(opts);
      } finally {
        flush();
      }
    },
    withTransaction(callback) {
      try {
        return client.withTransaction(callback);
      } finally {
        flush();
      }
    },
  };
}
