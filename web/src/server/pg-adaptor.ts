// PostGraphile's node-postgres adaptor with the request's settings sent in the same write as its
// first query.
//
// Why: @dataplan/pg's stock adaptor runs every request that has pgSettings (all of ours: role +
// request.jwt.claims) as four round trips: `begin`, `select set_config(...)`, the query, `commit`.
// On this kind of VM each socket write that wakes a sleeping peer costs ~0.2 ms of CPU, and those
// writes were ~30 % of a mutation's server CPU (docs/benchmarks.md). PostGraphile has no option for
// this (graphile/crystal-pre-merge#62 discusses it), so this wrapper does the one thing differently:
//
//   write 1: `begin; select set_config('role', …, true), set_config('request.jwt.claims', …, true)`
//            (one simple-protocol message) + the first query of the request, pipelined behind it
//            (node-postgres `pipeline: true` on the pool) and corked so both leave in one writev;
//   write 2: `commit` (or `rollback`), as before.
//
// Transaction semantics and RLS are unchanged: the same `begin`, the same transaction-local
// `set_config` calls (values as escaped literals instead of a JSON parameter), the query runs after
// them inside the transaction, and commit/rollback happen exactly where the stock adaptor does them.
// If the settings statement fails, the query fails with "current transaction is aborted", the
// transaction is rolled back and the settings error is the one reported. Nested transactions inside
// the request use savepoints (@dataplan/pg's client for a connection already in a transaction).
// Requests without settings, and the SUPERUSER variant, use the stock adaptor unchanged.
import type { Pool, PoolClient } from "pg";
import type { WithPgClient } from "postgraphile/@dataplan/pg";
import {
  makePgAdaptorWithPgClient,
  makePgService,
  makeWithPgClientViaPgClientAlreadyInTransaction,
  type NodePostgresPgClient,
} from "postgraphile/adaptors/pg";

type PgService = ReturnType<typeof makePgService>;
type Settings = Record<string, string | undefined> | null;

/** Same switch as the stock adaptor: it turns JIT optimisation off on every connection it uses. */
const DISABLE_JIT = process.env.DATAPLAN_PG_DONT_DISABLE_JIT !== "1";
const prepared = new WeakSet<PoolClient>();

/** `withPgClient` over `pool`, which must be created with `pipeline: true`. */
export function makeOneTripWithPgClient(pool: Pool): WithPgClient<NodePostgresPgClient> {
  if (!isPipelined(pool)) throw new Error("makeOneTripWithPgClient: create the pool with `pipeline: true`");
  const stock = makePgAdaptorWithPgClient(pool);
  const withPgClient = async <T>(pgSettings: Settings, callback: (client: NodePostgresPgClient) => T | Promise<T>): Promise<T> => {
    const entries = Object.entries(pgSettings ?? {}).filter((e): e is [string, string] => e[1] != null);
    if (entries.length === 0) return await stock(pgSettings, callback);
    const pgClient = await pool.connect();
    const lit = (v: string) => pgClient.escapeLiteral(v);
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
    const setup = pgClient
      .query(`${jit}begin; select ${entries.map(([k, v]) => `set_config(${lit(k)}, ${lit(v)}, true)`).join(", ")}`)
      .then(
        () => {},
        (e: unknown) => {
          setupError = e;
        },
      );
    let broken: Error | undefined;
    try {
      // The connection is now (as far as the queries that follow can tell) inside the transaction.
      const inTransaction = makeWithPgClientViaPgClientAlreadyInTransaction(pgClient, true);
      const result = await inTransaction(null, (client) => callback(flushOnFirstUse(client, flush)));
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
      } catch (e2) {
        broken = e2 as Error; // the connection is unusable: drop it rather than return it to the pool
      }
      throw setupError ?? e;
    } finally {
      pgClient.release(broken);
    }
  };
  return withPgClient as WithPgClient<NodePostgresPgClient>;
}

function isPipelined(pool: Pool): boolean {
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

/** `makePgService` whose request connections use makeOneTripWithPgClient (superuser work stays stock). */
export function makeOneTripPgService(options: Parameters<typeof makePgService>[0] & { pool: Pool }): PgService {
  const service = makePgService(options);
  const stockAdaptor = service.adaptor;
  return {
    ...service,
    adaptor: {
      ...stockAdaptor,
      createWithPgClient(settings, variant) {
        // A pool without pipelining (e.g. scripts/generated.ts printing the schema) gets the stock adaptor.
        if (variant === "SUPERUSER" || !settings?.pool || !isPipelined(settings.pool))
          return stockAdaptor.createWithPgClient(settings, variant);
        return makeOneTripWithPgClient(settings.pool);
      },
    },
  };
}
