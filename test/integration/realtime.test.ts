// Realtime over real websockets: catch-up after a reconnect, the GraphQL streamEvents subscription,
// presence counts (viewer_count events, streams.viewerCount), socket hygiene, and two processes
// sharing one port (cluster mode) delivering to every viewer.
import { createClient } from "graphql-ws";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestApp, type TestApp } from "../support/app.ts";
import { goLive, makeUser, sendChat, type User, Viewer, viewer } from "./realtime.helpers.ts";

const FAST = { RELAY_TICK_MS: "50", PRESENCE_FLUSH_MS: "300", RUN_WEB: "false" };

describe("one process", () => {
  let app: TestApp;
  let host: User;
  let alice: User;
  let streamId: string;
  const open: Viewer[] = [];
  const watch = async (after?: number) => {
    const v = await viewer(app.url, streamId, after);
    open.push(v);
    return v;
  };

  beforeAll(async () => {
    app = await startTestApp({ ...FAST, BROADCAST_MAX_PER_IP: "12" });
    host = await makeUser(app, "rt_host", { role: "broadcaster" });
    alice = await makeUser(app, "rt_alice", { displayName: "Alice" });
    streamId = await goLive(app, host, "Realtime show");
  });
  afterAll(async () => {
    for (const v of open) v.close();
    await app?.stop();
  });

  it("a reconnecting client catches up on what it missed, once and in order", async () => {
    // A witness keeps watching throughout, so we know when the relay has sent everything.
    const witness = await watch();
    const v1 = await watch();
    await sendChat(app, host, streamId, "before 1");
    await sendChat(app, host, streamId, "before 2");
    await v1.waitFor(() => v1.chatBodies().length === 2, "2 messages");
    const last = v1.lastId();
    v1.close();
    const missed = ["missed 1", "missed 2", "missed 3"];
    for (const m of missed) expect((await sendChat(app, host, streamId, m)).errors).toBeUndefined();
    // Let the relay send them while the client is away.
    await witness.waitFor(() => witness.chatBodies().length === 5, "the missed messages relayed");
    const v2 = await watch(last);
    expect(v2.hello()).toMatchObject({ type: "hello", resumed: true });
    await v2.waitFor(() => v2.chatBodies().length >= 3, "catch-up");
    expect(v2.chatBodies()).toEqual(missed);
    await sendChat(app, host, streamId, "after");
    await v2.waitFor(() => v2.chatBodies().includes("after"), "live message after catch-up");
    expect(v2.chatBodies()).toEqual([...missed, "after"]);
    const ids = v2.events().map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => id > last)).toBe(true);
  });

  it("a burst split over many NOTIFYs reaches a socket as fewer frames: every event once, in order", async () => {
    // Its own stream: the other tests here read this one's whole chat.
    const burstHost = await makeUser(app, "rt_burst_host", { role: "broadcaster" });
    const burstStream = await goLive(app, burstHost, "Burst show");
    const v = await viewer(app.url, burstStream);
    open.push(v);
    const before = await v.waitFor(() => v.hello(), "hello");
    const notifies = async () =>
      Number(/^trollcity_realtime_notifications_total (\d+)/m.exec(await (await fetch(`${app.url}/metrics`)).text())?.[1] ?? 0);
    const n0 = await notifies();
    const c = new pg.Client({ connectionString: app.db.url });
    await c.connect();
    try {
      // 120 chat events of ~1 KB in one transaction: one relay tick, split below 8000 bytes per NOTIFY.
      await c.query(
        `select app_private.publish_stream_event($1, 'chat', jsonb_build_object('message_id', -i, 'body', 'burst ' || i || ' ' || repeat('x', 1000)))
           from generate_series(1, 120) i`,
        [burstStream],
      );
    } finally {
      await c.end();
    }
    await v.waitFor(() => v.chatBodies().filter((b) => b.startsWith("burst ")).length === 120, "the burst");
    const bodies = v.chatBodies().filter((b) => b.startsWith("burst "));
    expect(bodies.map((b) => Number(b.split(" ")[1]))).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    const ids = v.events().map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => id > (before.last_id ?? 0))).toBe(true);
    const frames = v.messages.filter(
      (m) => m.type === "events" && m.events?.some((e) => String(e.payload?.body).startsWith("burst ")),
    ).length;
    await new Promise((r) => setTimeout(r, 2100)); // the /metrics collection is cached for up to 2 s
    const batches = (await notifies()) - n0;
    expect(batches).toBeGreaterThanOrEqual(15);
    // (one frame per batch before they were joined; how many reads of the LISTEN connection a burst
    // takes varies with load, so the bound is loose)
    expect(frames).toBeLessThanOrEqual(Math.floor(batches * 0.75));
  });

  it("the catch-up query returns the same events", async () => {
    const r = await app.gql<{ streamEventsSince: { nodes: { rowId: string; kind: string; payload: { body?: string } }[] } }>(
      "query($s: UUID!, $a: BigInt!) { streamEventsSince(streamId: $s, afterId: $a) { nodes { rowId kind payload } } }",
      { s: streamId, a: "0" },
    );
    expect(r.errors).toBeUndefined();
    const bodies = r.data?.streamEventsSince.nodes.filter((n) => n.kind === "chat").map((n) => n.payload.body);
    expect(bodies).toEqual(["before 1", "before 2", "missed 1", "missed 2", "missed 3", "after"]);
  });

  it("streamEvents over GraphQL delivers the same typed batches", async () => {
    const client = createClient({ url: `${app.url.replace(/^http/, "ws")}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
    const got: { kind: string; payload: { body?: string; sender?: { display_name?: string } } | null; id: string }[] = [];
    let ready = false;
    const done = new Promise<void>((resolve, reject) => {
      const unsubscribe = client.subscribe<{
        streamEvents: { streamId: string; events: { id: string; kind: string; at: string; payload: never }[] };
      }>(
        {
          query: `subscription($s: UUID!) { streamEvents(streamId: $s) { streamId events { id kind at payload truncated } } }`,
          variables: { s: streamId },
        },
        {
          next: (msg) => {
            if (msg.errors) reject(new Error(JSON.stringify(msg.errors)));
            expect(msg.data?.streamEvents.streamId).toBe(streamId);
            got.push(...(msg.data?.streamEvents.events ?? []));
            if (got.some((e) => e.kind === "chat" && e.payload?.body === "over graphql")) {
              unsubscribe();
              resolve();
            }
          },
          error: reject,
          complete: () => resolve(),
        },
      );
      ready = true;
    });
    expect(ready).toBe(true);
    // The subscription counts as a viewer: wait until the server has it, then send.
    const deadline = Date.now() + 10_000;
    let sent = false;
    while (!sent && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      await sendChat(app, alice, streamId, "over graphql");
      sent = true;
    }
    await done;
    await client.dispose();
    const chat = got.find((e) => e.kind === "chat");
    expect(chat?.payload?.sender?.display_name).toBe("Alice");
    expect(Number(chat?.id)).toBeGreaterThan(0);
  });

  it("viewers are counted per stream and pushed as viewer_count events", async () => {
    const s2 = await goLive(app, await makeUser(app, "rt_host2", { role: "broadcaster" }), "Counted show");
    const vs = [await viewer(app.url, s2), await viewer(app.url, s2), await viewer(app.url, s2)];
    open.push(...vs);
    const first = vs[0] as Viewer;
    await first.waitFor(() => first.events().some((e) => e.kind === "viewer_count" && e.payload?.viewers === 3), "viewer_count 3");
    const q = await app.gql<{ streamByRowId: { viewerCount: number } }>("query($s: UUID!) { streamByRowId(rowId: $s) { viewerCount } }", {
      s: s2,
    });
    expect(q.data?.streamByRowId.viewerCount).toBe(3);
    (vs[2] as Viewer).close();
    await first.waitFor(() => first.events().some((e) => e.kind === "viewer_count" && e.payload?.viewers === 2), "viewer_count 2");
    const counts = first.events().filter((e) => e.kind === "viewer_count");
    // At most one viewer_count per second.
    for (let i = 1; i < counts.length; i++) {
      const gap = Date.parse(String(counts[i]?.at)) - Date.parse(String(counts[i - 1]?.at));
      expect(gap).toBeGreaterThanOrEqual(950);
    }
  });

  it("refuses bad requests, unknown streams, and too many sockets from one address", async () => {
    await expect(Viewer.connect(app.url, "not-a-uuid")).rejects.toThrow("HTTP 400");
    const ghost = await Viewer.connect(app.url, "00000000-0000-4000-8000-000000000000");
    await ghost.waitFor(() => ghost.closeCode, "close");
    expect(ghost.closeCode).toBe(4404);
    // 12 per address: this test file already holds some; fill up, then one more is refused.
    const extra: Viewer[] = [];
    let refused: Error | null = null;
    for (let i = 0; i < 13 && !refused; i++) {
      try {
        extra.push(await Viewer.connect(app.url, streamId));
      } catch (e) {
        refused = e as Error;
      }
    }
    expect(refused?.message).toBe("HTTP 429");
    for (const v of extra) v.close();
    // Closing frees the slots.
    await new Promise((r) => setTimeout(r, 200));
    const again = await Viewer.connect(app.url, streamId);
    again.close();
  });

  it("drops a client that sends more than the small max payload", async () => {
    const v = await watch();
    v.ws.send("x".repeat(5000));
    await v.waitFor(() => v.closeCode, "close");
    expect(v.closeCode).toBe(1009);
  });
});

describe("two processes sharing the port (WEB_CONCURRENCY=2)", () => {
  let app: TestApp;
  let host: User;
  let streamId: string;
  const open: Viewer[] = [];

  beforeAll(async () => {
    app = await startTestApp({ ...FAST, WEB_CONCURRENCY: "2" });
    // Both processes listening.
    const deadline = Date.now() + 60_000;
    while ((app.output().match(/Troll City is running at/g) ?? []).length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    host = await makeUser(app, "cl_host", { role: "broadcaster" });
    streamId = await goLive(app, host, "Clustered show");
  });
  afterAll(async () => {
    for (const v of open) v.close();
    await app?.stop();
  });

  it("every viewer gets every message, whichever process holds its socket; presence sums both", async () => {
    for (let i = 0; i < 8; i++) open.push(await viewer(app.url, streamId));
    for (let i = 0; i < 5; i++) expect((await sendChat(app, host, streamId, `clustered ${i}`)).errors).toBeUndefined();
    const want = [0, 1, 2, 3, 4].map((i) => `clustered ${i}`);
    for (const v of open) await v.waitFor(() => v.chatBodies().length >= 5, "5 messages");
    for (const v of open) expect(v.chatBodies()).toEqual(want);
    const first = open[0] as Viewer;
    await first.waitFor(() => first.events().some((e) => e.kind === "viewer_count" && e.payload?.viewers === 8), "viewer_count 8");
    const c = new pg.Client({ connectionString: app.db.url });
    await c.connect();
    try {
      const { rows } = await c.query<{ nodes: number }>(
        "select count(distinct node_id)::int as nodes from app_private.presence_counts where stream_id = $1",
        [streamId],
      );
      expect(rows[0]?.nodes).toBe(2);
    } finally {
      await c.end();
    }
  });
});
