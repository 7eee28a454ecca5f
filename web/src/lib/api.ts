// The one API client: a POST to /graphql with the signed-in user's token. Every failure becomes an
// ApiError carrying our five-character code (docs/error_codes.md), the HTTP status and, for RATEL,
// the seconds to wait; #lib/errors.ts turns it into words for the reader. In the browser the token
// comes from the server in page data (the root layout calls setToken; the session itself is an
// http-only cookie, so no script can steal it from storage); on the server (hooks, form actions)
// each call passes its own token and the server's own address (#lib/server/session.ts).
export interface GqlError {
  message: string;
  extensions?: { code?: string; httpStatus?: number; retry_after?: number };
}

/** The browser's token, from page data (never kept on the server: one server serves many users). */
let browserToken: string | null = null;

export function getToken(): string | null {
  return browserToken;
}

/** Called by the root layout with the token the server put in page data (null: signed out). */
export function setToken(token: string | null): void {
  if (typeof window !== "undefined") browserToken = token;
}

/** A server-side call: its own token (null: anonymous), the API's absolute URL and fetch. */
export interface CallOptions {
  token?: string | null;
  url?: string;
  fetch?: typeof fetch;
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

const hashes = new Map<string, Promise<string | null>>();

/**
 * The document's sha256 (hex), its id among the trusted documents (scripts/trusted-documents.ts
 * collects every document literal in web/src/lib and web/src/routes at build time; keep documents
 * as literals there, never built at run time). Null where Web Crypto is missing (an insecure
 * context): the server then hashes the text itself.
 */
export function documentHash(query: string): Promise<string | null> {
  let h = hashes.get(query);
  if (!h) {
    const subtle = typeof crypto !== "undefined" ? crypto.subtle : undefined;
    h = subtle
      ? subtle
          .digest("SHA-256", new TextEncoder().encode(query))
          .then((buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join(""))
          .catch(() => null)
      : Promise.resolve(null);
    hashes.set(query, h);
  }
  return h;
}

export async function gql<T>(query: string, variables: Record<string, unknown> = {}, opts: CallOptions = {}): Promise<T> {
  const token = opts.token !== undefined ? opts.token : getToken();
  // The hash in Apollo's persisted-query shape, and the text too: the server (in production, for a
  // browser) runs the trusted document with that hash and refuses any other text; elsewhere
  // (development, integrators) it runs the text.
  const sha256Hash = await documentHash(query);
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(opts.url ?? "/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables, ...(sha256Hash ? { extensions: { persistedQuery: { version: 1, sha256Hash } } } : {}) }),
    });
  } catch (e) {
    throw new ApiError(`the server is unreachable (${(e as Error).message})`, NETWORK, 0);
  }
  const body = (await res.json().catch(() => null)) as { data?: T; errors?: GqlError[] } | null;
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

/** Sign in: the new token (throws CREDS for a wrong name or password, BANND for a banned user). */
export async function login(usernameOrEmail: string, password: string, opts: CallOptions = {}): Promise<string> {
  const data = await gql<{ login: { result: string } }>(
    `mutation Login($u: String!, $p: String!) { login(input: { usernameOrEmail: $u, password: $p }) { result } }`,
    { u: usernameOrEmail, p: password },
    opts,
  );
  return data.login.result;
}

/** Sign up: the new account's token (BADIN for invalid input, CONFL for a taken name or e-mail). */
export async function register(username: string, email: string, password: string, opts: CallOptions = {}): Promise<string> {
  const data = await gql<{ register: { result: string } }>(
    `mutation Register($u: String!, $e: String!, $p: String!) { register(input: { username: $u, email: $e, password: $p }) { result } }`,
    { u: username, e: email, p: password },
    opts,
  );
  return data.register.result;
}

/** A fresh token for the signed-in user (the server renews the session cookie with it). */
export async function renewToken(opts: CallOptions): Promise<string> {
  const data = await gql<{ renewToken: { result: string } }>("mutation Renew { renewToken(input: {}) { result } }", {}, opts);
  return data.renewToken.result;
}

/** A fresh id: a chat message's client id, a gift's idempotency key (randomUUID needs a secure context). */
export function newClientId(): string {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function" && globalThis.isSecureContext) {
    return crypto.randomUUID();
  }
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}
