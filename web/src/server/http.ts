// Small HTTP helpers shared by routes: JSON replies, bounded request bodies, errors as JSON replies.
// (Running SQL as the caller is caller.ts.)
import type { IncomingMessage, ServerResponse } from "node:http";
import { describeDbError, detailExtensions, POOL_TIMEOUT } from "./errors.ts";

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

/** The request body as text, refused (413) past `limit` bytes. */
export async function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, "BADIN", `request body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export async function readJson(req: IncomingMessage, limit = 64 * 1024): Promise<unknown> {
  const text = await readBody(req, limit);
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, "BADIN", "request body is not valid JSON");
  }
}

/** Map an error (ours, a database error, anything) to an HTTP JSON reply. */
export function sendError(res: ServerResponse, e: unknown) {
  const err = e as Error & { code?: string; detail?: string; statusCode?: number };
  if (e instanceof HttpError) return json(res, e.status, { error: { code: e.code, message: e.message } });
  const known = describeDbError(err);
  if (known) {
    const extra = detailExtensions(err.detail);
    const headers: Record<string, string> =
      typeof extra.retry_after === "number" ? { "retry-after": String(Math.ceil(extra.retry_after)) } : {};
    return json(res, known.httpStatus, { error: { ...extra, code: known.code, message: known.message } }, headers);
  }
  if (POOL_TIMEOUT.test(err.message ?? ""))
    return json(
      res,
      503,
      { error: { code: "BUSY", message: "the server is busy; retry in a second", retry_after: 1 } },
      { "retry-after": "1" },
    );
  if (err.statusCode === 401) return json(res, 401, { error: { code: "NOAUT", message: err.message } });
  console.error(e);
  return json(res, 500, { error: { code: "INTERNAL", message: "internal error" } });
}
