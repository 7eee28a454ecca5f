// Chat over real websockets: messages sent through GraphQL reach every viewer of the broadcast
// socket, in order, with everything needed to render them; mutes reject; deletions vanish for all;
// a new viewer gets the last messages without any per-join query.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app.ts";
import { goLive, makeUser, sendChat, type User, type Viewer, viewer } from "./realtime.helpers.ts";

let app: TestApp;
let host: User;
let alice: User;
let bob: User;
let streamId: string;
const open: Viewer[] = [];

beforeAll(async () => {
  app = await startTestApp({ RELAY_TICK_MS: "50", PRESENCE_FLUSH_MS: "300", RUN_WEB: "false" });
  host = await makeUser(app, "chat_host", { role: "broadcaster", displayName: "The Host" });
  alice = await makeUser(app, "chat_alice", {
    displayName: "Alice A.",
    avatarUrl: "https://cdn.example/alice.png",
    vehicle: "Pink Cadillac",
  });
  bob = await makeUser(app, "chat_bob", { displayName: "Bob B." });
  streamId = await goLive(app, host, "Chat test show");
});
afterAll(async () => {
  for (const v of open) v.close();
  await app?.stop();
});

async function watch(after?: number): Promise<Viewer> {
  const v = await viewer(app.url, streamId, after);
  open.push(v);
  return v;
}

describe("chat over the broadcast socket", () => {
  it("two viewers see each other's messages in order, with full sender data", async () => {
    const va = await watch();
    const vb = await watch();
    const sent: string[] = [];
    for (let i = 0; i < 4; i++) {
      const who = i % 2 === 0 ? alice : bob;
      const body = `${who.username} says ${i}`;
      const r = await sendChat(app, who, streamId, body, `client-${i}`);
      expect(r.errors).toBeUndefined();
      sent.push(body);
    }
    for (const v of [va, vb]) await v.waitFor(() => v.chatBodies().length >= 4, "4 chat events");
    expect(va.chatBodies()).toEqual(sent);
    expect(vb.chatBodies()).toEqual(sent);
    const first = va.events().find((e) => e.kind === "chat");
    expect(first?.payload).toMatchObject({
      body: "chat_alice says 0",
      client_id: "client-0",
      sender: {
        id: alice.id,
        username: "chat_alice",
        display_name: "Alice A.",
        avatar_url: "https://cdn.example/alice.png",
        vehicle_status: "Pink Cadillac",
        role: "viewer",
        badge: null,
      },
    });
    // Delivery numbers increase.
    const ids = va.events().map((e) => e.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  });

  it("a new viewer gets the last messages in its hello", async () => {
    const late = await watch();
    expect(late.hello()?.chat?.map((m) => m.body)).toEqual([
      "chat_alice says 0",
      "chat_bob says 1",
      "chat_alice says 2",
      "chat_bob says 3",
    ]);
    expect(late.hello()?.chat?.[0]?.sender).toMatchObject({ display_name: "Alice A.", vehicle_status: "Pink Cadillac" });
  });

  it("a muted user is rejected and their message reaches nobody", async () => {
    const v = await watch();
    const mute = await app.gql(
      "mutation($s: UUID!, $u: UUID!) { muteUser(input: {streamId: $s, userId: $u, durationSeconds: 600}) { clientMutationId } }",
      { s: streamId, u: bob.id },
      host.token,
    );
    expect(mute.errors).toBeUndefined();
    const r = await sendChat(app, bob, streamId, "can you hear me?");
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: "MUTED", httpStatus: 403 });
    const ok = await sendChat(app, alice, streamId, "alice after the mute");
    expect(ok.errors).toBeUndefined();
    await v.waitFor(() => v.chatBodies().includes("alice after the mute"), "alice's message");
    expect(v.chatBodies()).not.toContain("can you hear me?");
  });

  it("a deleted message disappears for all viewers, now and for late joiners", async () => {
    const va = await watch();
    const vb = await watch();
    const r = await sendChat(app, alice, streamId, "regrettable message");
    const messageId = Number(r.data?.sendChatMessage.result.rowId);
    expect(messageId).toBeGreaterThan(0);
    for (const v of [va, vb]) await v.waitFor(() => v.chatBodies().includes("regrettable message"), "the message");
    const del = await app.gql(
      'mutation($m: BigInt!) { deleteChatMessage(input: {messageId: $m, reason: "rude"}) { result } }',
      { m: String(messageId) },
      host.token,
    );
    expect(del.errors).toBeUndefined();
    for (const v of [va, vb]) {
      const ev = await v.waitFor(() => v.events().find((e) => e.kind === "chat_deleted"), "chat_deleted");
      expect(ev.payload).toEqual({ message_id: messageId });
    }
    const late = await watch();
    expect(late.hello()?.chat?.map((m) => m.body)).not.toContain("regrettable message");
    expect(late.hello()?.chat?.map((m) => m.body)).toContain("alice after the mute");
    // The catch-up query agrees.
    const recent = await app.gql<{ recentChatMessages: { nodes: { body: string }[] } }>(
      "query($s: UUID!) { recentChatMessages(streamId: $s) { nodes { body } } }",
      { s: streamId },
    );
    expect(recent.data?.recentChatMessages.nodes.map((n) => n.body)).not.toContain("regrettable message");
  });

  it("the rate limit answers RATEL with a retry-after", async () => {
    const carol = await makeUser(app, "chat_carol");
    const results = [];
    for (let i = 0; i < 7; i++) results.push(await sendChat(app, carol, streamId, `spam ${i}`));
    const limited = results.filter((r) => r.errors?.[0]?.extensions?.code === "RATEL");
    expect(limited.length).toBeGreaterThanOrEqual(1);
    expect(limited[0]?.errors?.[0]?.message).toMatch(/retry after \d+\.\d seconds/);
    expect(limited[0]?.errors?.[0]?.extensions?.httpStatus).toBe(429);
  });
});
