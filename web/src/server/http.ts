// Small HTTP helpers shared by routes: JSON replies, bounded JSON bodies, running SQL as the caller.
import type { IncomingMessage, ServerResponse } from "node:http";
import type pg from "pg";
import type { PgSettings } from "./auth.ts";
import { classifyDbError, detailExtensions } from "./errors.ts";

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
  res.end(JSON.stringify(body));
}

export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function readJson(req: IncomingMessage, limit = 64 * 1024): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, "BADIN", `request body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "BADIN", "request body is not valid JSON");
  }
}

/** Run `fn` in a transaction as the request's role and claims (the PostgREST way). */
export async function withRequestClient<T>(pool: pg.Pool, settings: PgSettings, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    await client.query("select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)", [
      settings.role,
      settings["request.jwt.claims"],
    ]);
    const out = await fn(client);
    await client.query("commit");
    return out;
  } catch (e) {
    await client.query("rollback").catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

/** Map an error (ours, a database error, anything) to an HTTP JSON reply. */
export function sendError(res: ServerResponse, e: unknown) {
  const err = e as Error & { code?: string; detail?: string; statusCode?: number };
  if (e instanceof HttpError) return json(res, e.status, { error: { code: e.code, message: e.message } });
  const known = classifyDbError(err.code);
  if (known) {
    const extra = detailExtensions(err.detail);
    const headers: Record<string, string> =
      typeof extra.retry_after === "number" ? { "retry-after": String(Math.ceil(extra.retry_after)) } : {};
    return json(
      res,
      known.httpStatus,
      { error: { ...extra, code: known.code, message: known.message ?? `${known.prefix}${err.message}` } },
      headers,
    );
  }
  if (err.statusCode === 401) return json(res, 401, { error: { code: "NOAUT", message: err.message } });
  console.error(e);
  return json(res, 500, { error: { code: "INTERNAL", message: "internal error" } });
}
