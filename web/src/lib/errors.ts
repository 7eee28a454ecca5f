// What the reader is told when something fails: every error code of docs/error_codes.md (plus the
// client's own NETWORK and HTTP) in words, with the phrasing a feature needs where the general words
// would be vague ("Sign in to chat." rather than "Sign in first."). Every place that shows an error
// goes through errorText, so a code means the same thing everywhere. test/integration/docs.test.ts
// checks that USER_TEXT covers every documented code.
import { ApiError, HTTP, NETWORK } from "#lib/api.ts";

/** Words for one failure: fixed, or built from the error (its server message, retry_after, ...). */
export type Text = string | ((e: ApiError) => string);

/** The server's message as a sentence (our messages are written for people: "user bob not found"). */
export const sentence = (message: string): string => {
  const m = message.trim();
  if (!m) return "";
  return m.charAt(0).toUpperCase() + m.slice(1) + (/[.!?]$/.test(m) ? "" : ".");
};

const retry = (e: ApiError) => (e.retryAfter ? ` Try again in ${e.retryAfter} s.` : " Try again in a moment.");

/** The general words for each code, used wherever a feature has no words of its own. */
export const USER_TEXT: Record<string, Text> = {
  NOAUT: "Sign in first (or again: your session may have expired).",
  CREDS: "Wrong username, e-mail or password.",
  DENYD: (e) => `Not allowed: ${e.message}`,
  NOFND: (e) => sentence(e.message) || "Not found.",
  BADIN: (e) => sentence(e.message) || "That input is not valid.",
  CONFL: (e) => `That conflicts with what is there already: ${e.message}`,
  INSFD: "Not enough coins.",
  IDEMP: "This request was already used with other details: start it again.",
  RATEL: (e) => `Too many requests.${retry(e)}`,
  MUTED: "You are muted here.",
  BANND: "You are banned.",
  NLIVE: "This stream is not live.",
  SEATF: (e) => `No seat: ${e.message}`,
  CONFG: "Unavailable: this server is not fully configured yet.",
  BUSY: "The server is busy. Try again in a moment.",
  UNAVL: "The server lost its database for a moment. Try again shortly.",
  INTERNAL: (e) => `Something went wrong on the server: ${e.message}.`,
  [NETWORK]: "Could not reach the server. Check your connection and try again.",
  [HTTP]: (e) => `The server could not answer (HTTP ${e.status}). Try again later.`,
};

/** Where an error is shown; each has its own words for some codes and for anything unexpected. */
export type ErrorContext =
  | "chat"
  | "chat-delete"
  | "gift"
  | "gift-load"
  | "stage"
  | "login"
  | "signup"
  | "account"
  | "wallet"
  | "admin"
  | "streams"
  | "leaderboard"
  | "playback"
  | "playback-stage"
  | "studio"
  | "camera"
  | "moderation"
  | "earnings"
  | "viral";

interface ContextText {
  /** Words for codes in this context (over USER_TEXT). */
  codes?: Record<string, Text>;
  /** An unexpected failure (no code, or one this client does not know). */
  other: (e: Error) => string;
}

const stageOther = (e: Error) =>
  e instanceof ApiError && e.status === 503 ? "Stage unavailable: try again later." : `Something went wrong: ${e.message}`;

const CONTEXTS: Record<ErrorContext, ContextText> = {
  chat: {
    codes: {
      RATEL: "You are sending messages too fast.",
      MUTED: "You are muted in this chat.",
      BANND: "You are banned from this chat.",
      NOAUT: "Sign in to chat.",
      NLIVE: "This stream is not live: chat is closed.",
      BADIN: (e) => e.message,
    },
    other: (e) => `Could not send: ${e.message}`,
  },
  "chat-delete": {
    codes: { DENYD: "You may only delete your own messages.", NOFND: "That message is already gone." },
    other: (e) => `Could not delete: ${e.message}`,
  },
  gift: {
    codes: {
      [NETWORK]: "Could not reach the server. Press Send again to retry (you will not be charged twice).",
      NLIVE: "This stream is not live: gifts can only be sent during a live stream.",
      DENYD: "You cannot send gifts to your own stream.",
      NOAUT: "Sign in to send gifts.",
      BANND: "You are banned and cannot send gifts.",
      RATEL: (e) => `Too many gifts at once.${e.retryAfter ? ` Try again in ${e.retryAfter} s.` : ""}`,
    },
    other: (e) => `Could not send the gift: ${e.message}`,
  },
  "gift-load": { other: (e) => `Could not load gifts: ${e.message}` },
  stage: {
    codes: {
      NOAUT: "Sign in to use the stage.",
      CONFG: "Stage unavailable: LiveKit is not configured on this server.",
      BANND: (e) => `You are banned: ${e.message}`,
      NLIVE: "This stream is not live: the stage is closed.",
      [HTTP]: (e) => stageOther(e),
    },
    other: (e) => stageOther(e),
  },
  login: {
    codes: {
      CREDS: "Wrong username, e-mail or password.",
      BANND: "This account is banned: it can no longer sign in.",
      RATEL: (e) => `Too many sign-in attempts.${retry(e)}`,
    },
    other: (e) => `Could not sign in: ${e.message}`,
  },
  signup: {
    codes: {
      CONFL: (e) => `${sentence(e.message)} Choose another, or sign in.`,
      BADIN: (e) => sentence(e.message),
    },
    other: (e) => `Could not create the account: ${e.message}`,
  },
  account: {
    codes: {
      NOAUT: "Your session has ended: sign in again to edit your profile.",
      BANND: "This account is banned: the profile cannot be changed.",
      BADIN: (e) => sentence(e.message),
      // A CHECK constraint of the users table (display name 1-64 characters, avatar an http(s) URL).
      "23514": "Display name must be 1-64 characters and the avatar an http:// or https:// address.",
    },
    other: (e) => `Could not save the profile: ${e.message}`,
  },
  wallet: {
    codes: {
      NOAUT: "Sign in to see your wallet and buy coins.",
      BANND: "This account is banned: it cannot buy coins.",
      NOFND: "That coin pack is not on sale any more.",
      CONFG: "Buying coins is not available on this server yet (Stripe is not configured).",
      STRIPE: "The payment page could not be opened. Nothing was charged: try again in a moment.",
    },
    other: (e) => `Wallet unavailable: ${e.message}`,
  },
  admin: {
    codes: {
      DENYD: (e) => `Not allowed: ${e.message}.`,
      NOFND: (e) => sentence(e.message) || "No such user.",
      BADIN: (e) => sentence(e.message),
    },
    other: (e) => `The admin action failed: ${e.message}`,
  },
  streams: { other: (e) => `Could not load streams: ${e.message}` },
  leaderboard: { other: (e) => `Could not load the leaderboard: ${e.message}` },
  playback: { other: (e) => `Could not load playback: ${e.message}` },
  // Why the player could not get a token to watch the stage (it says "Stage unavailable: <this>" and
  // falls back to HLS when it can).
  "playback-stage": {
    codes: {
      // Signed-out viewers get a watch-only token: NOAUT is a session that expired meanwhile.
      NOAUT: "your session expired: reload the page",
      RATEL: "too many stage connections from your address: try again shortly",
      CONFG: "LiveKit is not configured on this server",
      [NETWORK]: "the server is unreachable",
    },
    other: (e) => e.message,
  },
  studio: {
    codes: {
      NOAUT: "Sign in as a broadcaster to use the studio.",
      DENYD: "Only broadcasters can go live. Ask an admin to make you a broadcaster.",
      CONFL: "You are live already: end that stream first.",
      NLIVE: "This stream has ended.",
    },
    other: (e) => `Could not save: ${e.message}`,
  },
  // Publishing the broadcaster's camera (the preview works without LiveKit; publishing does not).
  camera: {
    codes: {
      CONFG: "LiveKit is not configured on this server: the preview works, but viewers cannot see your camera.",
      NOAUT: "Sign in to publish your camera.",
      NLIVE: "Go live first, then publish your camera.",
    },
    other: (e) => stageOther(e),
  },
  moderation: {
    codes: {
      DENYD: "Only the broadcaster and moderators can moderate this chat.",
      NOFND: (e) => sentence(e.message) || "No such user.",
    },
    other: (e) => `Could not apply: ${e.message}`,
  },
  earnings: { other: (e) => `Could not load earnings: ${e.message}` },
  viral: {
    codes: { CONFL: (e) => `Cannot switch now: ${e.message}`, NLIVE: "Go live first." },
    other: (e) => `Could not switch playback: ${e.message}`,
  },
};

/**
 * The words for a failure shown in `context`. `codes` adds words for this one call (a text that
 * needs the caller's numbers, like the price of a gift that could not be paid).
 */
export function errorText(e: unknown, context: ErrorContext, codes: Record<string, Text> = {}): string {
  const ctx = CONTEXTS[context];
  if (!(e instanceof ApiError)) return ctx.other(e instanceof Error ? e : new Error(String(e)));
  const text = codes[e.code] ?? ctx.codes?.[e.code] ?? USER_TEXT[e.code];
  if (text === undefined) return ctx.other(e);
  return typeof text === "string" ? text : text(e);
}

/** An error to show: its code (for data-code and code-specific markup) and its words. */
export interface Shown {
  code: string;
  text: string;
}

export const shown = (e: unknown, context: ErrorContext, codes?: Record<string, Text>): Shown => ({
  code: e instanceof ApiError ? e.code : "",
  text: errorText(e, context, codes),
});
