// The broadcast-socket client against a scripted websocket server (no database): resume by last
// event id after a drop, duplicate ids ignored, one shared socket per stream, truncated events
// fetched, 4404 ends the subscription.
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, expect, it } from "vitest";
import { type WebSocket as ServerSocket, WebSocketServer } from "ws";
import { type ConnectionStatus, type Hello, type StreamEvent, subscribe } from "./realtime.ts";

const STREAM = "8f0c7a52-2b7e-4d55-9a43-0a9f2d0c1b11";

let wss: WebSocketServer;
let baseUrl: string;
/** Every connection the client opened, with its query string. */
let conns: { url: URL; ws: ServerSocket }[];
let waiters: (() => void)[];

beforeEach(async () => {
  conns = [];
  waiters = [];
  wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  baseUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  wss.on("connection", (ws, req) => {
    conns.push({ url: new URL(req.url ?? "/", "http://x"), ws });
    for (const w of waiters.splice(0)) w();
  });
});
afterEach(async () => {
  for (const c of wss.clients) c.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
});

async function connection(n: number): Promise<{ url: URL; ws: ServerSocket }> {
  const deadline = Date.now() + 10_000;
  while (conns.length < n) {
    if (Date.now() > deadline) throw new Error(`expected ${n} connections, got ${conns.length}`);
    await new Promise<void>((resolve) => {
      waiters.push(resolve);
      setTimeout(resolve, 200);
    });
  }
  return conns[n - 1] as { url: URL; ws: ServerSocket };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const chat = (id: number, body: string): StreamEvent => ({
  id,
  kind: "chat",
  at: "2026-01-01T00:00:00Z",
  payload: { message_id: id * 10, body, client_id: null, created_at: "2026-01-01T00:00:00Z", sender: { id: "u1", display_name: "Alice" } },
});

function recorder() {
  const hellos: Hello[] = [];
  const events: StreamEvent[] = [];
  const statuses: ConnectionStatus[] = [];
  return {
    hellos,
    events,
    statuses,
    handlers: {
      onHello: (h: Hello) => hellos.push(h),
      onEvents: (e: StreamEvent[]) => events.push(...e),
      onStatus: (s: ConnectionStatus) => statuses.push(s),
    },
  };
}

it("reconnects after a drop with after=<last event id>, resumes, and ignores events it already has", async () => {
  const r = recorder();
  const unsubscribe = subscribe(STREAM, r.handlers, { baseUrl, backoffMs: 20 });
  const first = await connection(1);
  expect(first.url.pathname).toBe("/broadcast");
  expect(first.url.searchParams.get("stream")).toBe(STREAM);
  expect(first.url.searchParams.has("after")).toBe(false);
  first.ws.send(JSON.stringify({ type: "hello", stream_id: STREAM, viewers: 3, last_id: 10, resumed: false, chat: [] }));
  first.ws.send(JSON.stringify({ type: "events", stream_id: STREAM, events: [chat(11, "one"), chat(13, "two")] }));
  await until(() => r.events.length === 2, "the first batch");
  first.ws.terminate();

  const second = await connection(2);
  expect(second.url.searchParams.get("after")).toBe("13");
  second.ws.send(JSON.stringify({ type: "hello", stream_id: STREAM, viewers: 4, last_id: 15, resumed: true }));
  // A batch that overlaps what the client has: only 15 is new.
  second.ws.send(JSON.stringify({ type: "events", stream_id: STREAM, events: [chat(13, "two"), chat(15, "three")] }));
  await until(() => r.events.length === 3, "the missed event");
  expect(r.events.map((e) => e.id)).toEqual([11, 13, 15]);
  expect(r.hellos.map((h) => h.resumed)).toEqual([false, true]);
  expect(r.statuses).toEqual(["connecting", "open", "reconnecting", "open"]);

  // Dropped again before any new event: resume from the same id.
  second.ws.terminate();
  const third = await connection(3);
  expect(third.url.searchParams.get("after")).toBe("15");
  unsubscribe();
  await until(() => third.ws.readyState === third.ws.CLOSED, "the socket to close on unsubscribe");
});

it("a resync is a new start: handlers get a hello that did not resume, and the resync's last_id is the new mark", async () => {
  const r = recorder();
  const unsubscribe = subscribe(STREAM, r.handlers, { baseUrl, backoffMs: 20 });
  const c = await connection(1);
  c.ws.send(JSON.stringify({ type: "hello", stream_id: STREAM, viewers: 3, last_id: 10, resumed: false, chat: [] }));
  c.ws.send(JSON.stringify({ type: "events", stream_id: STREAM, events: [chat(11, "one")] }));
  await until(() => r.events.length === 1, "the first batch");
  // The server lost its LISTEN connection and reloaded: ids may even restart lower after a crash.
  c.ws.send(JSON.stringify({ type: "resync", stream_id: STREAM, viewers: 5, last_id: 4, chat: [] }));
  c.ws.send(JSON.stringify({ type: "events", stream_id: STREAM, events: [chat(5, "after the resync")] }));
  await until(() => r.events.length === 2, "the event after the resync");
  expect(r.hellos.map((h) => [h.resumed, h.last_id, h.viewers])).toEqual([
    [false, 10, 3],
    [false, 4, 5],
  ]);
  expect(r.events.map((e) => e.id)).toEqual([11, 5]);
  unsubscribe();
});

it("components of one page share one socket; a late one gets the hello and the events since", async () => {
  const a = recorder();
  const b = recorder();
  const offA = subscribe(STREAM, a.handlers, { baseUrl });
  const c = await connection(1);
  c.ws.send(JSON.stringify({ type: "hello", stream_id: STREAM, viewers: 1, last_id: 20, resumed: false, chat: [] }));
  c.ws.send(JSON.stringify({ type: "events", stream_id: STREAM, events: [chat(21, "x")] }));
  await until(() => a.events.length === 1, "the first subscriber's event");
  const offB = subscribe(STREAM, b.handlers, { baseUrl });
  expect(b.hellos.map((h) => h.last_id)).toEqual([20]);
  expect(b.events.map((e) => e.id)).toEqual([21]);
  c.ws.send(JSON.stringify({ type: "events", stream_id: STREAM, events: [chat(22, "y")] }));
  await until(() => a.events.length === 2 && b.events.length === 2, "both subscribers");
  offA();
  await new Promise((r) => setTimeout(r, 50));
  expect(c.ws.readyState).toBe(c.ws.OPEN);
  offB();
  await until(() => c.ws.readyState === c.ws.CLOSED, "the socket to close after the last unsubscribe");
  expect(conns.length).toBe(1);
});

it("fetches a truncated event before delivering its batch, in order", async () => {
  const r = recorder();
  const fetched: number[] = [];
  const off = subscribe(STREAM, r.handlers, {
    baseUrl,
    fetchEvent: async (_s, id) => {
      fetched.push(id);
      await new Promise((res) => setTimeout(res, 30));
      return chat(id, "the big one");
    },
  });
  const c = await connection(1);
  c.ws.send(JSON.stringify({ type: "hello", stream_id: STREAM, viewers: 1, last_id: 30, resumed: false, chat: [] }));
  c.ws.send(JSON.stringify({ type: "events", stream_id: STREAM, events: [{ id: 31, kind: "chat", at: "t", truncated: true }] }));
  c.ws.send(JSON.stringify({ type: "events", stream_id: STREAM, events: [chat(32, "small")] }));
  await until(() => r.events.length === 2, "both events");
  expect(fetched).toEqual([31]);
  expect(r.events.map((e) => [e.id, (e.payload as { body: string }).body])).toEqual([
    [31, "the big one"],
    [32, "small"],
  ]);
  off();
});

it("stops on 4404 (no such stream) instead of reconnecting", async () => {
  const r = recorder();
  const off = subscribe(STREAM, r.handlers, { baseUrl, backoffMs: 10 });
  const c = await connection(1);
  c.ws.close(4404, "stream not found");
  await until(() => r.statuses.includes("not_found"), "not_found");
  await new Promise((res) => setTimeout(res, 200));
  expect(conns.length).toBe(1);
  off();
});
