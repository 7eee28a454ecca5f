// The feature contract: how a feature plugs HTTP routes, websocket upgrades and background work into
// the one server process without editing app.ts. Each feature file exports a FeatureFactory;
// features/index.ts lists them. A factory gets the ServerContext, which app.ts builds once per
// process: everything a feature needs (config, pools, hub, LiveKit settings) comes from there, not
// from module variables. Request work runs as the caller with `withCaller(ctx.authPool, settings, …)`
// (../caller.ts); the owner pool is for internal work only.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type pg from "pg";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Config } from "../../../../core/config.ts";
import type { LivekitSettings } from "../../../../core/livekit/config.ts";
import type { OutboundPolicy } from "../../../../core/outbound.ts";
import type { PgSettings } from "../auth.ts";
import type { RealtimeHub } from "../realtime/hub.ts";
import type { WritePath } from "../writes.ts";

export interface ServerContext {
  config: Config;
  logger: Logger;
  /** Owner connection (app_private access): internal work only, never on behalf of a request. */
  ownerPool: pg.Pool;
  /** `authenticator` connection (`pipeline: true`): request work as the caller, through `withCaller`. */
  authPool: pg.Pool;
  /** Verify an Authorization header; throws AuthError (401) on a bad token, anon settings without one. */
  settingsFor: (authorization: string | undefined | null) => Promise<PgSettings>;
  /** Prometheus registry served at /metrics. */
  registry: Registry;
  /** This process's realtime hub (relay, LISTEN connection, presence), also in the GraphQL context. */
  hub: RealtimeHub;
  /** LiveKit settings derived from `config` (null: not configured). */
  livekit: LivekitSettings | null;
  /** Hosts outbound checks may fetch (shared with the worker; the demo origin adds itself). */
  outbound: OutboundPolicy;
  /** The client's address key for per-address limits (client-address.ts: trusted proxies, IPv6 /64). */
  addressOf: (req: IncomingMessage) => string;
  /** Group-commit write path for gifts and chat (../writes.ts): the sender id comes from the caller's verified token. */
  writes: WritePath;
}

export interface Route {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  handle(req: IncomingMessage, res: ServerResponse, ctx: ServerContext): Promise<void>;
}

export interface Feature {
  name: string;
  routes?: Route[];
  /** Return true when this feature took the upgrade. */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Readiness checks for /readyz: name → "ok" or a short reason (never raw error text). */
  ready?(): Record<string, string>;
  stop?(): Promise<void>;
  /** Details for /readyz `services` (external services and what their check found); never makes it unready. */
  services?(): Record<string, string>;
  /** Called once the server listens, with its public URL. */
  listening?(url: string): Promise<void>;
}

export type FeatureFactory = (ctx: ServerContext) => Promise<Feature>;
