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
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(ERROR_CODES, code);
}
