// The browser's feature modules without a browser or a database: the API client's errors (fetch
// stubbed), the words for every code, the chat reducer, the gift events and the gift sender's
// idempotency key (a lost answer keeps it, any answer ends it).
import { afterEach, expect, it, vi } from "vitest";
import { ApiError, gql, NETWORK } from "./api.ts";
import { addMessages, applyEvents, type ChatView } from "./chat.ts";
import { errorText, USER_TEXT } from "./errors.ts";
import { GiftSender, giftEvents } from "./gifts.ts";
import type { ChatMessage, StreamEvent } from "./realtime.ts";

afterEach(() => {
  vi.unstubAllGlobals();
});

/** fetch answering each call with the next of `answers` (a Response body and status, or an Error). */
function stubFetch(answers: ({ status: number; body: unknown } | Error)[]): { calls: unknown[] } {
  const calls: unknown[] = [];
  vi.stubGlobal("fetch", async (_url: string, init: RequestInit) => {
    calls.push(JSON.parse(String(init.body)));
    const a = answers.shift();
    if (!a) throw new Error("no more answers");
    if (a instanceof Error) throw a;
    return new Response(typeof a.body === "string" ? a.body : JSON.stringify(a.body), { status: a.status });
  });
  return { calls };
}

it("gql turns every failure into an ApiError with our code, status and retry_after", async () => {
  stubFetch([
    { status: 200, body: { errors: [{ message: "slow down", extensions: { code: "RATEL", httpStatus: 429, retry_after: 2 } }] } },
    new TypeError("Failed to fetch"),
    { status: 502, body: "<html>bad gateway</html>" },
    { status: 200, body: { data: { ok: true } } },
  ]);
  const fail = (p: Promise<unknown>) => p.then(() => null).catch((e: unknown) => e as ApiError);
  const rated = await fail(gql("{ a }"));
  expect([rated?.code, rated?.status, rated?.retryAfter, rated?.answered]).toEqual(["RATEL", 429, 2, true]);
  const lost = await fail(gql("{ a }"));
  expect([lost?.code, lost?.status, lost?.answered]).toEqual([NETWORK, 0, false]);
  const proxy = await fail(gql("{ a }"));
  expect([proxy?.code, proxy?.status]).toEqual(["HTTP", 502]);
  expect(await gql("{ a }")).toEqual({ ok: true });
});

it("every code has words, and a context's own words win", () => {
  for (const code of [
    "NOAUT",
    "CREDS",
    "DENYD",
    "NOFND",
    "BADIN",
    "CONFL",
    "INSFD",
    "IDEMP",
    "RATEL",
    "MUTED",
    "BANND",
    "NLIVE",
    "SEATF",
    "CONFG",
  ]) {
    expect(USER_TEXT[code], code).toBeDefined();
    expect(errorText(new ApiError("x", code, 400), "streams"), code).not.toBe("");
  }
  expect(errorText(new ApiError("sign in", "NOAUT", 401), "chat")).toBe("Sign in to chat.");
  expect(errorText(new ApiError("user bob not found", "NOFND", 404), "stage")).toBe("User bob not found.");
  expect(errorText(new ApiError("slow", "RATEL", 429, 3), "gift")).toBe("Too many gifts at once. Try again in 3 s.");
  expect(errorText(new ApiError("gone", "INSFD", 402), "gift", { INSFD: "Not enough coins: 3 × Rose." })).toBe(
    "Not enough coins: 3 × Rose.",
  );
  expect(errorText(new ApiError("boom", "", 200), "chat")).toBe("Could not send: boom");
  expect(errorText(new Error("camera"), "stage")).toBe("Something went wrong: camera");
  expect(errorText(new ApiError("the server answered 503", "HTTP", 503), "stage")).toBe("Stage unavailable: try again later.");
});

const message = (id: number, sender: string, clientId: string | null = null): ChatMessage => ({
  message_id: id,
  body: `m${id}`,
  client_id: clientId,
  created_at: "2026-01-01T00:00:00Z",
  sender: { id: sender, username: sender, display_name: sender, avatar_url: null, role: "viewer", badge: null, vehicle_status: null },
});
const event = (id: number, kind: string, payload: Record<string, unknown>): StreamEvent => ({
  id,
  kind,
  at: "2026-01-01T00:00:00Z",
  payload,
});
const empty: ChatView = { messages: [], pending: [], viewers: null, slowMode: 0 };

it("chat: messages once each, our echo replaces its pending line, deletions and header events apply in order", () => {
  let v = addMessages({ ...empty, pending: [{ clientId: "c1", body: "m2" }] }, [message(1, "bob"), message(2, "me", "c1")], "me");
  v = addMessages(v, [message(1, "bob")], "me");
  expect(v.messages.map((m) => m.message_id)).toEqual([1, 2]);
  expect(v.pending).toEqual([]);
  const r = applyEvents(
    v,
    [
      event(1, "chat", message(3, "bob") as unknown as Record<string, unknown>),
      event(2, "chat_deleted", { message_id: 1 }),
      event(3, "chat_deleted", { user_id: "me", reason: "ban" }),
      event(4, "viewer_count", { viewers: 7 }),
      event(5, "stream_state", { chat_slow_mode_seconds: 0 }),
    ],
    "me",
  );
  expect(r.view.messages.map((m) => m.message_id)).toEqual([3]);
  expect([r.view.viewers, r.view.slowMode, r.slowModeOff]).toEqual([7, 0, true]);
});

it("gift events: toasts from `gift`, the whole list from `leaderboard`", () => {
  const r = giftEvents([
    event(1, "gift", {
      id: 9,
      sender: { id: "u", username: "alice", display_name: "", avatar_url: null },
      gift: { id: "g", slug: "rose", name: "Rose", art_url: "/rose.svg", coin_price: 1 },
      quantity: 2,
      coins: 2,
    }),
    event(2, "leaderboard", {
      top_gifters: [{ rank: 1, user_id: "u", username: "alice", display_name: "Alice", avatar_url: null, coins: 206, gifts: 3 }],
    }),
  ]);
  expect(r.toasts).toEqual([{ id: 9, sender: "alice", avatarUrl: null, gift: "Rose", artUrl: "/rose.svg", quantity: 2 }]);
  expect(r.topGifters?.[0]).toMatchObject({ rank: 1, userId: "u", displayName: "Alice", coins: 206 });
});

it("gift sender: a lost answer keeps the key for the same retry, any answer ends it", async () => {
  const receipt = { data: { sendGift: { result: { balance: "10", coins: "3", quantity: 3 } } } };
  const { calls } = stubFetch([
    new TypeError("connection reset"),
    { status: 200, body: receipt },
    { status: 200, body: receipt },
    { status: 200, body: { errors: [{ message: "poor", extensions: { code: "INSFD" } }] } },
    { status: 200, body: receipt },
  ]);
  const s = new GiftSender();
  const key = (i: number) => (calls[i] as { variables: { k: string } }).variables.k;
  await expect(s.send("s", "rose", 3)).rejects.toMatchObject({ code: NETWORK });
  expect(await s.send("s", "rose", 3)).toEqual({ quantity: 3, coins: 3, balance: 10 });
  expect(key(1)).toBe(key(0));
  await s.send("s", "rose", 3);
  expect(key(2)).not.toBe(key(1));
  await expect(s.send("s", "rose", 3)).rejects.toMatchObject({ code: "INSFD" });
  await s.send("s", "rose", 3);
  expect(key(4)).not.toBe(key(3));
});
