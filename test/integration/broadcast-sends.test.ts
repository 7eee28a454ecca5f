// Sends over the broadcast socket (issue 14, docs/realtime-protocol.md): a token once per connection,
// then `chat` and `gift` frames, each answered by one `ack` or `error` with its id after the commit;
// the same rules (codes, messages, idempotency) as GraphQL; frame size, rate and auth limits.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FRAME_BURST } from "../../web/src/server/features/broadcast-sends.ts";
import { startTestApp, type TestApp } from "../support/app.ts";
import { goLive, makeUser, type User, Viewer, viewer } from "./realtime.helpers.ts";

let app: TestApp;
let pool: pg.Pool;
let host: User;
let alice: User;
let bob: User;
let streamId: string;
let roseId: string;
const open: Viewer[] = [];

type Reply = {
  type: string;
  id: string | null;
  kind?: string;
  code?: string;
  message?: unknown;
  retry_after?: number;
  receipt?: Record<string, unknown>;
  user_id?: string;
};

async function client(
  user?: User,
): Promise<Viewer & { reply(id: string): Promise<Reply>; frame(f: Record<string, unknown>): Promise<Reply> }> {
  const v = await viewer(app.url, streamId);
  open.push(v);
  const c = Object.assign(v, {
    async reply(id: string) {
      return (await v.waitFor(() => v.messages.find((m) => (m as unknown as Reply).id === id), `reply ${id}`)) as unknown as Reply;
    },
    async frame(f: Record<string, unknown>) {
      v.ws.send(JSON.stringify(f));
      return await c.reply(String(f.id));
    },
  });
  if (user)
    expect(await c.frame({ type: "auth", id: "auth", token: user.token })).toMatchObject({ type: "ack", kind: "auth", user_id: user.id });
  return c;
}

beforeAll(async () => {
  app = await startTestApp({ RELAY_TICK_MS: "50", PRESENCE_FLUSH_MS: "300", RUN_WEB: "false" });
  pool = new pg.Pool({ connectionString: app.db.url, max: 2 });
  host = await makeUser(app, "bs_host", { role: "broadcaster" });
  alice = await makeUser(app, "bs_alice", { displayName: "Alice" });
  bob = await makeUser(app, "bs_bob");
  streamId = await goLive(app, host, "socket sends");
  const g = await pool.query<{ id: string }>(
    "insert into app_public.gifts (slug, name, coin_price, art_url) values ('bs-rose', 'Rose', 5, '/gifts/rose.svg') returning id",
  );
  roseId = String(g.rows[0]?.id);
  await pool.query("select app_private.issue_coins($1, 20, 'grant', 'bs-alice')", [alice.id]);
});
afterAll(async () => {
  for (const v of open) v.close();
  await pool?.end();
  await app?.stop();
});

describe("auth", () => {
  it("sends need a token first; a bad token is refused; a good one names the user", async () => {
    const c = await client();
    expect(await c.frame({ type: "chat", id: "c1", body: "hi" })).toMatchObject({ type: "error", id: "c1", code: "NOAUT" });
    expect(await c.frame({ type: "auth", id: "a1", token: "not-a-jwt" })).toMatchObject({ type: "error", id: "a1", code: "NOAUT" });
    expect(await c.frame({ type: "auth", id: "a2", token: alice.token })).toEqual({
      type: "ack",
      id: "a2",
      kind: "auth",
      user_id: alice.id,
    });
  });
});

describe("chat frames", () => {
  it("ack after the commit; every viewer gets the chat event with the same id and client id", async () => {
    const watcher = await client();
    const c = await client(alice);
    const ack = await c.frame({ type: "chat", id: "m1", body: "  hello over the socket ", client_id: "opt-1" });
    expect(ack).toMatchObject({ type: "ack", id: "m1", kind: "chat", message: { body: "hello over the socket", client_id: "opt-1" } });
    const messageId = (ack.message as { message_id: number }).message_id;
    expect(messageId).toBeGreaterThan(0);
    const ev = await watcher.waitFor(
      () => watcher.events().find((e) => e.kind === "chat" && e.payload?.client_id === "opt-1"),
      "the chat event",
    );
    expect(ev.payload).toMatchObject({
      message_id: messageId,
      body: "hello over the socket",
      sender: { username: "bs_alice", display_name: "Alice" },
    });
  });

  it("the database's rules and messages: BADIN, the rate limit with retry_after", async () => {
    const c = await client(bob);
    expect(await c.frame({ type: "chat", id: "e1", body: "   " })).toMatchObject({
      code: "BADIN",
      message: "chat message must be 1-500 characters",
    });
    const replies = await Promise.all(Array.from({ length: 6 }, (_, i) => c.frame({ type: "chat", id: `r${i}`, body: `burst ${i}` })));
    expect(replies.map((r) => r.type)).toEqual(["ack", "ack", "ack", "ack", "ack", "error"]);
    expect(replies[5]).toMatchObject({ code: "RATEL", retry_after: 1 });
    expect(String(replies[5]?.message)).toMatch(/^chat rate limit for user bs_bob: retry after 1\.0 seconds$/);
  });
});

describe("gift frames", () => {
  it("receipt; the same key replays; IDEMP, INSFD; the gift event", async () => {
    const watcher = await client();
    const c = await client(alice);
    const ok = await c.frame({ type: "gift", id: "g1", gift_id: roseId, quantity: 2, idempotency_key: "bs-k1" });
    expect(ok).toMatchObject({
      type: "ack",
      id: "g1",
      kind: "gift",
      receipt: { coins: 10, balance: 10, replayed: false, status: "pending", quantity: 2, stream_id: streamId },
    });
    const replay = await c.frame({ type: "gift", id: "g2", gift_id: roseId, quantity: 2, idempotency_key: "bs-k1" });
    expect(replay.receipt).toMatchObject({ gift_ledger_id: ok.receipt?.gift_ledger_id, replayed: true, balance: 10 });
    expect(await c.frame({ type: "gift", id: "g3", gift_id: roseId, quantity: 1, idempotency_key: "bs-k1" })).toMatchObject({
      code: "IDEMP",
    });
    expect(await c.frame({ type: "gift", id: "g4", gift_id: roseId, quantity: 3 })).toMatchObject({
      code: "INSFD",
      message: 'insufficient funds: 3 × "Rose" costs 15 coins, user bs_alice has 10',
    });
    expect(await c.frame({ type: "gift", id: "g5", gift_id: "nope" })).toMatchObject({ code: "NOFND" });
    expect(await c.frame({ type: "gift", id: "g6", gift_id: roseId, quantity: 1.5 })).toMatchObject({ code: "BADIN" });
    const ev = await watcher.waitFor(() => watcher.events().find((e) => e.kind === "gift"), "the gift event");
    expect(ev.payload).toMatchObject({ id: ok.receipt?.gift_ledger_id, quantity: 2, coins: 10 });
    const { rows } = await pool.query<{ n: number }>("select count(*)::int as n from app_private.gift_ledger where sender_id = $1", [
      alice.id,
    ]);
    expect(rows[0]?.n).toBe(1);
  });

  it("the broadcaster cannot gift their own stream (DENYD), as over GraphQL", async () => {
    const c = await client(host);
    expect(await c.frame({ type: "gift", id: "h1", gift_id: roseId })).toMatchObject({ code: "DENYD" });
  });
});

describe("frame rules", () => {
  it("malformed frames get BADIN; viewers that send nothing are unaffected", async () => {
    const c = await client();
    const before = c.messages.length;
    c.ws.send("not json");
    c.ws.send(JSON.stringify({ type: "chat", body: "no id" }));
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await c.waitFor(() => c.messages.length >= before + 3, "three errors");
    expect(c.messages.slice(before).map((m) => [(m as unknown as Reply).type, (m as unknown as Reply).code])).toEqual([
      ["error", "BADIN"],
      ["error", "BADIN"],
      ["error", "BADIN"],
    ]);
    expect(await c.frame({ type: "shout", id: "x1" })).toMatchObject({ code: "BADIN", id: "x1" });
  });

  it("more than FRAME_BURST frames at once: the excess is refused with RATEL, every frame answered exactly once", async () => {
    const c = await client(alice);
    const n = FRAME_BURST + 20;
    for (let i = 0; i < n; i++) c.ws.send(JSON.stringify({ type: "shout", id: `f${i}` }));
    await c.waitFor(() => c.messages.filter((m) => String((m as unknown as Reply).id).startsWith("f")).length >= n, "all answers");
    await new Promise((r) => setTimeout(r, 200));
    const answers = c.messages.filter((m) => String((m as unknown as Reply).id).startsWith("f")) as unknown as Reply[];
    expect(answers).toHaveLength(n);
    expect(new Set(answers.map((a) => a.id)).size).toBe(n);
    const limited = answers.filter((a) => a.code === "RATEL");
    expect(limited.length).toBeGreaterThanOrEqual(15);
    expect(limited[0]?.retry_after).toBeGreaterThan(0);
  });

  it("a frame over 4 KiB closes the socket with 1009", async () => {
    const c = await Viewer.connect(app.url, streamId);
    open.push(c);
    await c.waitFor(() => c.hello(), "hello");
    c.ws.send(JSON.stringify({ type: "chat", id: "big", body: "x".repeat(9000) }));
    await c.waitFor(() => c.closeCode !== null, "the close");
    expect(c.closeCode).toBe(1009);
  });
});
