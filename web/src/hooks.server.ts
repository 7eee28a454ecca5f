// Every request: read the session cookie, renew the token when it is about to expire, and load the
// signed-in user (name, role, balance) for the header. A token that is expired, refused (401) or
// belongs to a banned user ends the session at once.
import type { Handle } from "@sveltejs/kit/hooks";
import { SESSION_QUERY, type SessionUser } from "#lib/account.ts";
import { ApiError, renewToken } from "#lib/api.ts";
import { asCaller, clearSession, serverGql, setSession } from "#lib/server/session.ts";
import { RENEW_BEFORE_SECONDS, SESSION_COOKIE, tokenExpiry } from "../../core/session.ts";

export const handle: Handle = async ({ event, resolve }) => {
  event.locals.token = null;
  event.locals.user = null;
  event.locals.balance = null;
  let token = event.cookies.get(SESSION_COOKIE) ?? null;
  if (token) {
    const exp = tokenExpiry(token);
    const left = (exp ?? 0) - Date.now() / 1000;
    if (left <= 5) {
      clearSession(event);
      token = null;
    } else if (left < RENEW_BEFORE_SECONDS) {
      try {
        token = await renewToken(asCaller(event, token));
        setSession(event, token);
      } catch (e) {
        // Refused (banned, unknown user): the session ends. Anything else: keep the old token a while.
        if (e instanceof ApiError && (e.status === 401 || e.code === "NOAUT" || e.code === "BANND")) {
          clearSession(event);
          token = null;
        }
      }
    }
  }
  if (token) {
    try {
      const data = await serverGql<{ currentUser: SessionUser | null; myWallet: { balance: string } | null }>(event, token, SESSION_QUERY);
      if (!data.currentUser || data.currentUser.isBanned) {
        clearSession(event);
        event.locals.banned = data.currentUser?.isBanned ?? false;
      } else {
        event.locals.token = token;
        event.locals.user = data.currentUser;
        event.locals.balance = data.myWallet ? Number(data.myWallet.balance) : 0;
      }
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.code === "NOAUT" || e.code === "BANND")) clearSession(event);
    }
  }
  return resolve(event);
};
