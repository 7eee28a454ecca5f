// Browser-side GraphQL client: one POST to /graphql with the signed-in user's token.
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

export class ApiError extends Error {
  code: string | undefined;
  /** Seconds to wait before retrying (RATEL). */
  retryAfter: number | undefined;
  constructor(err: GqlError) {
    super(err.message);
    this.code = err.extensions?.code;
    const ra = Number(err.extensions?.retry_after);
    this.retryAfter = Number.isFinite(ra) && ra > 0 ? ra : undefined;
  }
}

export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const token = getToken();
  const res = await fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json().catch(() => ({ errors: [{ message: `server answered ${res.status}` }] }))) as {
    data?: T;
    errors?: GqlError[];
  };
  if (res.status === 401 && token) setToken(null);
  const first = body.errors?.[0];
  if (first) throw new ApiError(first);
  return body.data as T;
}
