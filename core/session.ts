// The web session: the signed-in user's short-lived API token (JWT) in one cookie, shared by the
// SvelteKit hooks (web/src/hooks.server.ts: sets, renews and clears it) and the server's own routes
// (web/src/server/features/stripe.ts: /checkout). http-only (page scripts never read it; the API client
// gets the token from page data), SameSite=Lax (no cross-site form posts carry it), Secure over https.
export const SESSION_COOKIE = "tc_session";
/** Renew the token when it has fewer than this many seconds left. */
export const RENEW_BEFORE_SECONDS = 300;

/** The value of one cookie from a Cookie header, or null. */
export function readCookie(header: string | undefined | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) {
      const value = part.slice(i + 1).trim();
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }
  }
  return null;
}

/** A JWT's `exp` (seconds), read without verifying (the server verifies tokens where it uses them). */
export function tokenExpiry(token: string): number | null {
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as { exp?: unknown };
    return typeof payload.exp === "number" ? payload.exp : null;
  } catch {
    return null;
  }
}
