// PostGraphile v5 over app_public, connecting as `authenticator`; each request runs as the role and
// claims of its verified JWT. Our SQLSTATE codes pass through as `extensions.code` (+ HTTP status).
import type { IncomingMessage } from "node:http";
import { GraphQLError } from "graphql";
import type pg from "pg";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { ANON_SETTINGS, type PgSettings } from "./auth.ts";
import type { Config } from "./config.ts";
import { classifyDbError, detailExtensions } from "./errors.ts";
import { graphqlPlugins } from "./graphql-plugins.ts";
import { makeOneTripPgService } from "./pg-adaptor.ts";

/** Settings verified by the HTTP layer before the request reached grafserv. */
export const verifiedSettings = new WeakMap<IncomingMessage, PgSettings>();

export function maskError(error: GraphQLError): GraphQLError {
  const original = error.originalError as (Error & { code?: string; detail?: string }) | undefined;
  if (!original || original instanceof GraphQLError) return error;
  const known = classifyDbError(original.code);
  if (known) {
    return new GraphQLError(known.message ?? `${known.prefix}${original.message}`, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      originalError: original,
      extensions: {
        ...detailExtensions(original.detail),
        code: known.code,
        httpStatus: known.httpStatus,
        ...(known.code !== original.code ? { sqlstate: original.code } : {}),
      },
    });
  }
  const id = Math.random().toString(36).slice(2, 10);
  console.error(`GraphQL error ${id}:`, original);
  return new GraphQLError(`internal error (logged as ${id})`, { nodes: error.nodes, path: error.path, extensions: { code: "INTERNAL" } });
}

export interface GraphqlDeps {
  config: Config;
  /** Pool connected as `authenticator`, created with `pipeline: true` (see pg-adaptor.ts). */
  pool: pg.Pool;
  settingsFor: (authorization: string | undefined | null) => Promise<PgSettings>;
}

export function makePreset({ config, pool, settingsFor }: GraphqlDeps): GraphileConfig.Preset {
  return {
    extends: [PostGraphileAmberPreset],
    plugins: graphqlPlugins,
    pgServices: [makeOneTripPgService({ pool, schemas: ["app_public"], pubsub: true })],
    grafserv: {
      graphqlPath: "/graphql",
      graphiql: config.graphiql,
      graphiqlPath: "/graphiql",
      graphiqlOnGraphQLGET: false,
      websockets: true,
      watch: false,
      maskError,
    },
    grafast: {
      explain: false,
      async context(requestContext) {
        const req = requestContext.node?.req;
        if (req) return { pgSettings: verifiedSettings.get(req) ?? ANON_SETTINGS };
        const params = requestContext.ws?.normalizedConnectionParams as Record<string, unknown> | undefined;
        const authorization = typeof params?.authorization === "string" ? params.authorization : null;
        return { pgSettings: await settingsFor(authorization) };
      },
    },
  };
}
