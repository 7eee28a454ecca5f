// PostGraphile's node-postgres adaptor with each request run the one way we run SQL as the caller
// (../caller.ts: the request's settings sent in the same write as its first query, two round trips
// instead of the stock adaptor's four). PostGraphile has no option for this (graphile/crystal-pre-merge#62
// discusses it). Requests without settings, and the SUPERUSER variant, use the stock adaptor unchanged.
import type { Pool } from "pg";
import type { WithPgClient } from "postgraphile/@dataplan/pg";
import { makePgAdaptorWithPgClient, makePgService, type NodePostgresPgClient } from "postgraphile/adaptors/pg";
import { isPipelined, withCaller } from "../caller.ts";

type PgService = ReturnType<typeof makePgService>;
type Settings = Record<string, string | undefined> | null;

/** `withPgClient` over `pool`, which must be created with `pipeline: true`. */
export function makeOneTripWithPgClient(pool: Pool): WithPgClient<NodePostgresPgClient> {
  if (!isPipelined(pool)) throw new Error("makeOneTripWithPgClient: create the pool with `pipeline: true`");
  const stock = makePgAdaptorWithPgClient(pool);
  const withPgClient = async <T>(pgSettings: Settings, callback: (client: NodePostgresPgClient) => T | Promise<T>): Promise<T> => {
    const hasSettings = Object.values(pgSettings ?? {}).some((v) => v != null);
    if (!hasSettings) return await stock(pgSettings, callback);
    return await withCaller(pool, pgSettings ?? {}, callback);
  };
  return withPgClient as WithPgClient<NodePostgresPgClient>;
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
