// The browser's one API client: a POST to /graphql with the signed-in user's token. Every failure
// becomes an ApiError carrying our five-character code (docs/error_codes.md), the HTTP status and,
// for RATEL, the seconds to wait; #lib/errors.ts turns it into words for the reader.
export interface GqlError {
  message: string;
  extensions?: { code?: string; httpStatus?: number; retry_after?: number };
}

const TOKEN_KEY = "trollcity.token";

export function getToken(): string | null {
  return typeof localStorage === "undefined" ? null : localStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

/** The request never got an answer (offline, connection reset): its outcome is unknown. */
export const NETWORK = "NETWORK";
/** The server answered something that is not a GraphQL response (a proxy's error page, ...). */
export const HTTP = "HTTP";

/** An error from the API: our code (or NETWORK / HTTP / INTERNAL / ""), the HTTP status (0: no answer). */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  /** Seconds to wait before retrying (RATEL). */
  readonly retryAfter: number | undefined;
  constructor(message: string, code: string, status: number, retryAfter?: unknown) {
    super(message);
    this.code = code;
    this.status = status;
    const ra = Number(retryAfter);
    this.retryAfter = Number.isFinite(ra) && ra > 0 ? ra : undefined;
  }

  /** False when the server never answered, so the request may or may not have taken effect. */
  get answered(): boolean {
    return this.code !== NETWORK;
  }
}

export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const token = getToken();
  let res: Response;
  try {
    res = await fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
  } catch (e) {
    throw new ApiError(`the server is unreachable (${(e as Error).message})`, NETWORK, 0);
  }
  const body = (await res.json().catch(() => null)) as { data?: T; errors?: GqlError[] } | null;
  if (res.status === 401 && token) setToken(null);
  const first = body?.errors?.[0];
  if (first || !body) {
    throw new ApiError(
      first?.message ?? `the server answered ${res.status}`,
      // An error without a code (a query the schema refuses) is "": the caller's own words apply.
      first?.extensions?.code ?? (res.status === 503 ? "CONFG" : first ? "" : HTTP),
      first?.extensions?.httpStatus ?? res.status,
      first?.extensions?.retry_after,
    );
  }
  return body.data as T;
}

/** Sign in: stores the token on success (throws CREDS for a wrong name or password). */
export async function login(usernameOrEmail: string, password: string): Promise<void> {
  const data = await gql<{ login: { result: string } }>(
    `mutation Login($u: String!, $p: String!) { login(input: { usernameOrEmail: $u, password: $p }) { result } }`,
    { u: usernameOrEmail, p: password },
  );
  setToken(data.login.result);
}

/** A fresh id: a chat message's client id, a gift's idempotency key (randomUUID needs a secure context). */
export function newClientId(): string {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function" && globalThis.isSecureContext) {
    return crypto.randomUUID();
  }
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}
