// API JWT verification: pinned algorithm (HS256), audience and expiry checked, then the claims are
// handed to PostgreSQL exactly as PostgREST does (`role` + `request.jwt.claims`).
import { errors, jwtVerify } from "jose";
import type { Config } from "./config.ts";

export const REQUEST_ROLES = new Set(["anon", "authenticated"]);

export class AuthError extends Error {
  readonly statusCode = 401;
}

export type PgSettings = { role: string; "request.jwt.claims": string };

export const ANON_SETTINGS: PgSettings = { role: "anon", "request.jwt.claims": JSON.stringify({ role: "anon" }) };

export function makeVerifier(config: Pick<Config, "JWT_SECRET" | "JWT_AUDIENCE">) {
  const key = new TextEncoder().encode(config.JWT_SECRET);
  /** Bearer token (or null) → pgSettings; throws AuthError for a bad or expired token. */
  return async function settingsFor(authorization: string | undefined | null): Promise<PgSettings> {
    if (!authorization) return ANON_SETTINGS;
    const m = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!m?.[1]) throw new AuthError("Authorization header must be `Bearer <token>`");
    try {
      const { payload } = await jwtVerify(m[1], key, {
        algorithms: ["HS256"],
        audience: config.JWT_AUDIENCE,
        requiredClaims: ["exp", "sub", "role"],
      });
      const role = String(payload.role);
      if (!REQUEST_ROLES.has(role)) throw new AuthError(`token role "${role}" is not a request role`);
      return { role, "request.jwt.claims": JSON.stringify(payload) };
    } catch (e) {
      if (e instanceof AuthError) throw e;
      if (e instanceof errors.JWTExpired) throw new AuthError("token expired: sign in again");
      throw new AuthError(`invalid token: ${(e as Error).message}`);
    }
  };
}
