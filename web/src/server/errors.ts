// Our SQLSTATE codes and how they map to HTTP statuses and GraphQL error extensions.
// docs/error_codes.md documents the same table; a test keeps the two (and the SQL) in step.
export const ERROR_CODES = {
  NOAUT: { http: 401, meaning: "not signed in" },
  CREDS: { http: 401, meaning: "wrong username/email or password" },
  DENYD: { http: 403, meaning: "not allowed" },
  NOFND: { http: 404, meaning: "not found" },
  BADIN: { http: 400, meaning: "invalid input" },
  CONFL: { http: 409, meaning: "conflicts with existing data (e.g. username taken, already live)" },
  INSFD: { http: 402, meaning: "insufficient funds" },
  IDEMP: { http: 409, meaning: "idempotency key reused with other arguments" },
  RATEL: { http: 429, meaning: "rate limited (retry after the given seconds)" },
  MUTED: { http: 403, meaning: "muted in this stream" },
  BANND: { http: 403, meaning: "banned" },
  NLIVE: { http: 409, meaning: "stream not live" },
  SEATF: { http: 409, meaning: "seat taken or stage full" },
  CONFG: { http: 503, meaning: "server configuration missing (e.g. auth not configured)" },
  BUSY: { http: 503, meaning: "the server is at capacity (no database connection free in time); retry after the given seconds" },
  UNAVL: { http: 503, meaning: "the database is unavailable (restarting or unreachable): retry shortly" },
} as const;

/** Errors of a database that is down, restarting or unreachable (node's socket codes, SQLSTATE 57P0x, class 08). */
const UNAVAILABLE = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENOTCONN", "57P01", "57P02", "57P03"]);

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(ERROR_CODES, code);
}

/** Structured details a function may attach as JSON in DETAIL (e.g. `{"retry_after": 2}`). */
export function detailExtensions(detail: string | undefined): Record<string, unknown> {
  if (!detail) return {};
  try {
    const parsed: unknown = JSON.parse(detail);
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** node-postgres' message when the pool had no connection free within connectionTimeoutMillis. */
export const POOL_TIMEOUT = /^timeout exceeded when trying to connect$/;

/** Map a database error to our code, or null when it is an internal error. */
export function classifyDbError(code: string | undefined): { code: string; httpStatus: number; prefix: string; message?: string } | null {
  if (isErrorCode(code)) return { code, httpStatus: ERROR_CODES[code].http, prefix: "" };
  // The database is down or restarting: retryable, and the raw text (addresses, ports) stays in the log.
  if (code && (UNAVAILABLE.has(code) || code.startsWith("08")))
    return { code: "UNAVL", httpStatus: 503, prefix: "", message: "the database is unavailable: retry shortly" };
  // Calling something the role was never granted: the database said no.
  if (code === "42501") return { code: "DENYD", httpStatus: 403, prefix: "", message: "not allowed" };
  // Constraint violations (class 23) and malformed values (class 22, e.g. a NUL byte, a bad uuid)
  // are the client's fault.
  if (code?.startsWith("23") || code?.startsWith("22")) return { code: "BADIN", httpStatus: 400, prefix: "invalid input: " };
  return null;
}

/**
 * A database error as a client may see it: our code, its HTTP status and the message. The message
 * is fixed where the database's own text would say too much (42501 names internal schemas, a lost
 * connection names hosts and ports), else the database's message with the class prefix. Null for an
 * internal error (logged, never shown). The one place every edge (GraphQL, HTTP, the socket) asks.
 */
export function describeDbError(err: { code?: string; message?: string }): { code: string; httpStatus: number; message: string } | null {
  const known = classifyDbError(err.code);
  if (!known) return null;
  return { code: known.code, httpStatus: known.httpStatus, message: known.message ?? `${known.prefix}${err.message ?? ""}` };
}
