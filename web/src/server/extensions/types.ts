// How features plug HTTP routes, websocket upgrades and background loops into the one server
// process without editing app.ts: each feature exports a factory; extensions/index.ts lists them.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type pg from "pg";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { PgSettings } from "../auth.ts";
import type { Config } from "../config.ts";

export interface ServerContext {
  config: Config;
  logger: Logger;
  /** Owner connection (app_private access): internal work only, never on behalf of a request. */
  ownerPool: pg.Pool;
  /** `authenticator` connection: run request work as the caller with `withRequestClient`. */
  authPool: pg.Pool;
  /** Verify an Authorization header; throws AuthError (401) on a bad token, anon settings without one. */
  settingsFor: (authorization: string | undefined | null) => Promise<PgSettings>;
  /** Prometheus registry served at /metrics. */
  registry: Registry;
}

export interface Route {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  handle(req: IncomingMessage, res: ServerResponse, ctx: ServerContext): Promise<void>;
}

export interface ServerExtension {
  name: string;
  routes?: Route[];
  /** Return true when this extension took the upgrade. */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Readiness checks for /readyz: name → "ok" or a short reason (never raw error text). */
  ready?(): Record<string, string>;
  stop?(): Promise<void>;
}

export type ExtensionFactory = (ctx: ServerContext) => Promise<ServerExtension>;
