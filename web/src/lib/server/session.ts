// The web session on the server side of SvelteKit: the http-only cookie holding the short-lived API
// token (core/session.ts), and GraphQL calls made for a request (hooks, form actions) through the one
// API client (#lib/api.ts) at this server's own address: the socket the request arrived on, so the
// call never leaves the machine and never depends on a proxy's public name.
import type { Cookies, RequestEvent } from "@sveltejs/kit";
import { type CallOptions, gql } from "#lib/api.ts";
import { SESSION_COOKIE, tokenExpiry } from "../../../../core/session.ts";

/** Where this server's /graphql is, seen from the server itself. */
export function apiUrl(event: RequestEvent): string {
  const req = (event.platform as { req?: { socket?: { localAddress?: string; localPort?: number } } } | undefined)?.req;
  const address = req?.socket?.localAddress;
  const port = req?.socket?.localPort;
  if (address && port) {
    const host = address.includes(":") ? `[${address.replace(/^::ffff:/, "")}]` : address;
    return `http://${address.startsWith("::ffff:") ? address.slice(7) : host}:${port}/graphql`;
  }
  return new URL("/graphql", event.url).href;
}

/** Call options for a server-side GraphQL call as `token` (null: anonymous). */
export function asCaller(event: RequestEvent, token: string | null): CallOptions {
  return { token, url: apiUrl(event), fetch: globalThis.fetch };
}

export function serverGql<T>(event: RequestEvent, token: string | null, query: string, variables: Record<string, unknown> = {}) {
  return gql<T>(query, variables, asCaller(event, token));
}

const secure = (event: RequestEvent) => event.url.protocol === "https:" || (process.env.PUBLIC_URL ?? "").startsWith("https:");

/** Keep `token` as the session: http-only, SameSite=Lax, Secure over https, until the token expires. */
export function setSession(event: RequestEvent, token: string): void {
  const exp = tokenExpiry(token) ?? 0;
  event.cookies.set(SESSION_COOKIE, token, {
    path: "/",
    httpOnly: true,
    sameSite: "lax",
    secure: secure(event),
    maxAge: Math.max(1, Math.floor(exp - Date.now() / 1000)),
  });
}

export function clearSession(event: { cookies: Cookies } & RequestEvent): void {
  event.cookies.delete(SESSION_COOKIE, { path: "/", httpOnly: true, sameSite: "lax", secure: secure(event) });
}

/** A local path to go to after signing in (never another site). */
export function safeNext(next: string | null | undefined): string {
  return next && /^\/(?!\/)[^\s\\]*$/.test(next) ? next : "/";
}
