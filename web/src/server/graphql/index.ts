// The GraphQL API: PostGraphile v5 over app_public, connecting as `authenticator`; each request runs
// as the role and claims of its verified JWT. Our SQLSTATE codes pass through as `extensions.code`
// (+ HTTP status). This folder: the preset (here), our schema plugins (plugins.ts and the files it
// lists) and the adaptor that sends a request's settings with its first query (pg-adaptor.ts).
import type { IncomingMessage } from "node:http";
import { GraphQLError } from "graphql";
import type pg from "pg";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import type { Config } from "../../../../core/config.ts";
import type { LivekitSettings } from "../../../../core/livekit/config.ts";
import { ANON_SETTINGS, type PgSettings } from "../auth.ts";
import { describeDbError, detailExtensions, POOL_TIMEOUT } from "../errors.ts";
import type { RealtimeHub } from "../realtime/hub.ts";
import type { WritePath } from "../writes.ts";
import { DEFAULT_LIMITS, makeLimitsPlugin } from "./limits.ts";
import { makeOneTripPgService } from "./pg-adaptor.ts";
import { graphqlPlugins } from "./plugins.ts";
import { loadTrustedDocuments, makeTrustedDocumentsPlugin } from "./trusted-documents.ts";

declare global {
  namespace Grafast {
    /** What our plugins read from the request context (set by `grafast.context` below). */
    interface Context {
      /** This process's realtime hub (streamEvents); absent when only the schema is built. */
      hub?: RealtimeHub;
      /** This process's LiveKit settings (livekitToken); null when LiveKit is not configured. */
      livekit?: LivekitSettings | null;
      /** The client's address (livekitToken: signed-out viewers are rate limited per address). */
      clientAddr?: string | null;
      /** The websocket connection (one object per graphql-ws connection): presence counts once per connection and stream. */
      connection?: object | null;
      /** This process's group-commit write path (sendGift, sendChatMessage). */
      writes?: WritePath;
    }
  }
}

export function maskError(error: GraphQLError): GraphQLError {
  const original = error.originalError as (Error & { code?: string; detail?: string }) | undefined;
  if (!original || original instanceof GraphQLError) return error;
  const known = describeDbError(original);
  if (known) {
    return new GraphQLError(known.message, {
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
  if (POOL_TIMEOUT.test(original.message)) {
    return new GraphQLError("the server is busy; retry in a second", {
      nodes: error.nodes,
      path: error.path,
      extensions: { code: "BUSY", httpStatus: 503, retry_after: 1 },
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
  /** Settings the HTTP layer verified before the request reached grafserv (app.ts fills it). */
  verified?: WeakMap<IncomingMessage, PgSettings>;
  /** The app's realtime hub, handed to every request (not needed to print the schema). */
  hub?: RealtimeHub;
  livekit?: LivekitSettings | null;
  /** The app's group-commit write path (not needed to print the schema). */
  writes?: WritePath;
  /** The client's address key (client-address.ts); absent when only the schema is built. */
  addressOf?: (req: IncomingMessage) => string;
}

function trustedDocuments(config: Config): Map<string, string> | null {
  const documents = loadTrustedDocuments(config.TRUSTED_DOCUMENTS_FILE);
  if (!documents)
    console.error(
      `trusted documents are enforced but ${config.TRUSTED_DOCUMENTS_FILE ?? "web/build/trusted-documents.json"} is missing: run \`npm run build\`; browser GraphQL requests will be refused`,
    );
  return documents;
}

export function makePreset({
  config,
  pool,
  settingsFor,
  verified,
  hub,
  livekit = null,
  writes,
  addressOf,
}: GraphqlDeps): GraphileConfig.Preset {
  return {
    extends: [PostGraphileAmberPreset],
    plugins: [
      ...graphqlPlugins,
      // Before the limits: a trusted document's text replaces what the browser sent.
      ...(config.trustedDocuments ? [makeTrustedDocumentsPlugin(trustedDocuments(config))] : []),
      makeLimitsPlugin({ ...DEFAULT_LIMITS, introspection: config.introspection }),
    ],
    pgServices: [makeOneTripPgService({ pool, schemas: ["app_public"], pubsub: true })],
    grafserv: {
      graphqlPath: "/graphql",
      graphiql: config.graphiql,
      graphiqlPath: "/graphiql",
      graphiqlOnGraphQLGET: false,
      websockets: true,
      watch: false,
      maskError,
      // A request document larger than this is refused before it is parsed.
      maxRequestLength: 64 * 1024,
    },
    grafast: {
      explain: false,
      // Planning blocks the event loop; execution is checked before each asynchronous step.
      timeouts: { planning: 500, execution: 15_000 },
      async context(requestContext) {
        const req = requestContext.node?.req;
        if (req)
          return { pgSettings: verified?.get(req) ?? ANON_SETTINGS, hub, livekit, writes, clientAddr: req.socket.remoteAddress ?? null };
        const params = requestContext.ws?.normalizedConnectionParams as Record<string, unknown> | undefined;
        const authorization = typeof params?.authorization === "string" ? params.authorization : null;
        const wsRequest = requestContext.ws?.request as IncomingMessage | undefined;
        const clientAddr = wsRequest ? (addressOf?.(wsRequest) ?? null) : null;
        const connection = (requestContext.ws?.socket as object | undefined) ?? null;
        return { pgSettings: await settingsFor(authorization), hub, livekit, writes, clientAddr, connection };
      },
    },
  };
}
