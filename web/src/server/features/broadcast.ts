// The broadcast websocket for viewers (docs/architecture.md, rule 6; protocol in docs/realtime-protocol.md).
// GET /broadcast?stream=<uuid>[&after=<last event id>] upgrades to a socket that receives the stream's
// events; a signed-in client may also send chat and gifts on it (broadcast-sends.ts).
// The NOTIFY batches of a stream that arrive in one event-loop turn become one websocket frame, built
// once and written to every socket of the stream: no per-socket JSON, no query per join or per event.
// Viewers that negotiated permessage-deflate get one deflated frame, also built once (realtime/frames.ts). Slow
// consumers whose send buffer passes BROADCAST_MAX_BUFFER_BYTES are disconnected (they reconnect
// with `after` and catch up). The hub is the app's (ctx.hub, created and stopped by app.ts).
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { Counter, Histogram } from "prom-client";
import { WebSocket, WebSocketServer } from "ws";
import { originAllowed } from "../client-address.ts";
import { BROADCAST_DEFLATE, SharedFrame, takesSharedDeflate, textFrame } from "../realtime/frames.ts";
import { type EventBatch, StreamNotFoundError, type StreamState, UUID_RE } from "../realtime/hub.ts";
import { FRAME_MAX_BYTES, SocketSends } from "./broadcast-sends.ts";
import type { Feature, ServerContext } from "./types.ts";

export const BROADCAST_PATH = "/broadcast";

interface Conn {
  ws: WebSocket;
  /** The TCP socket under ws: shared frames are written to it directly (nothing goes through
   * ws.send, so ws never queues data frames and our writes cannot interleave with its own). */
  sock: Socket;
  /** Negotiated permessage-deflate without context takeover: takes the shared deflated frame. */
  deflate: boolean;
  ip: string;
  alive: boolean;
  /** Batches that arrived before the hello was sent. */
  pending: EventBatch[] | null;
  /** The newest event id this socket's hello (or resync) covered, and the room's flush count then: */
  sentThrough: number;
  /** the first flush after it may hold events the hello already covered, and skips those. */
  helloFlush: number;
  /** `chat` / `gift` / `auth` frames from the client (broadcast-sends.ts). */
  sends: SocketSends;
  /** Answers to the client's frames that were ready before the hello was sent. */
  held: Record<string, unknown>[];
}

interface Room {
  state: StreamState;
  conns: Set<Conn>;
  unsubscribe: () => void;
  /** NOTIFY batches received in this event-loop turn, written as one frame at its end (coalesce). */
  queued: { batch: EventBatch; raw: string }[];
  /** Frames written so far (coalesced flushes). */
  flushes: number;
}

function rejectUpgrade(socket: Duplex, status: number, reason: string) {
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${reason.length}\r\n\r\n${reason}`,
  );
}

export async function broadcastFeature(ctx: ServerContext): Promise<Feature> {
  const { config, hub } = ctx;
  const log = ctx.logger.child({ component: "broadcast" });
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: FRAME_MAX_BYTES,
    perMessageDeflate: BROADCAST_DEFLATE,
    clientTracking: false,
  });
  // The extension parameters ws agreed on, per upgrade request (ws exposes only the names on the socket).
  const negotiated = new WeakMap<IncomingMessage, string>();
  wss.on("headers", (headers: string[], req: IncomingMessage) => {
    const h = headers.find((x) => x.toLowerCase().startsWith("sec-websocket-extensions:"));
    if (h) negotiated.set(req, h.slice(h.indexOf(":") + 1).trim());
  });
  const rooms = new Map<string, Room>();
  const roomsLoading = new Map<string, Promise<Room>>();
  const perIp = new Map<string, number>();
  const metric = (name: string, help: string) =>
    (ctx.registry.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help, registers: [ctx.registry] });
  const dropped = metric("trollcity_broadcast_slow_consumers_dropped_total", "Broadcast sockets dropped for a full send buffer");
  const rejected = metric("trollcity_broadcast_rejected_total", "Broadcast upgrades refused (per-IP cap, bad request)");
  const deliveries = metric("trollcity_broadcast_deliveries_total", "Batch frames written to broadcast sockets");
  const fanoutSeconds =
    (ctx.registry.getSingleMetric("trollcity_broadcast_fanout_seconds") as Histogram | undefined) ??
    new Histogram({
      name: "trollcity_broadcast_fanout_seconds",
      help: "Time to write one batch to every socket of a stream in this process",
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5],
      registers: [ctx.registry],
    });

  function send(conn: Conn, frame: Buffer): void {
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    if (conn.sock.writableLength > config.BROADCAST_MAX_BUFFER_BYTES) {
      dropped.inc();
      conn.ws.terminate();
      return;
    }
    conn.sock.write(frame);
  }

  function sendJson(conn: Conn, msg: unknown): void {
    send(conn, textFrame(JSON.stringify(msg)));
  }

  /**
   * A stream's NOTIFY batches that arrive together (one read of the LISTEN connection often holds
   * many: a burst of gifts is split below 8000 bytes per NOTIFY) are written as one frame per socket
   * at the end of the event-loop turn: one write per socket instead of one per batch. The events keep
   * their delivery order; the frame is still one `events` message of one stream.
   */
  function fanOut(room: Room, batch: EventBatch, raw: string): void {
    room.queued.push({ batch, raw });
    if (room.queued.length === 1) setImmediate(() => flushRoom(room));
  }

  function flushRoom(room: Room): void {
    const queued = room.queued;
    room.queued = [];
    if (queued.length === 0) return;
    try {
      writeQueued(room, queued);
    } catch (e) {
      // (outside the hub's per-listener guard: this runs from setImmediate)
      log.warn({ err: e, stream: room.state.streamId }, "broadcast fan-out failed");
    }
  }

  function writeQueued(room: Room, queued: Room["queued"]): void {
    const t0 = process.hrtime.bigint();
    // The NOTIFY payload is already the JSON batch `{"stream_id":"…","events":[…]}`: prefix the message
    // type (and join several batches' event lists), frame (and deflate) once.
    let text: string;
    const first = queued[0]?.raw ?? "";
    if (queued.length === 1) text = `{"type":"events",${first.slice(1)}`;
    else {
      const open = first.indexOf('"events":[') + '"events":['.length;
      const parts = queued.map(({ raw }) => raw.slice(raw.indexOf('"events":[') + '"events":['.length, raw.lastIndexOf("]")));
      text = `{"type":"events",${first.slice(1, open)}${parts.filter((x) => x.length > 0).join(",")}]}`;
    }
    const frame = new SharedFrame(text);
    // Only the first flush after a socket's hello can hold events the hello already covered (batches
    // absorbed into the state it was built from, then queued for this flush).
    const flush = room.flushes++;
    let n = 0;
    for (const conn of room.conns) {
      if (conn.pending) for (const q of queued) conn.pending.push(q.batch);
      else if (conn.helloFlush === flush) {
        // Got its hello between these batches' arrival and this write: only what it has not seen.
        const fresh = queued.flatMap((q) => q.batch.events).filter((e) => e.id > conn.sentThrough);
        if (fresh.length) {
          sendJson(conn, { type: "events", stream_id: room.state.streamId, events: fresh });
          n++;
        }
      } else {
        send(conn, conn.deflate ? frame.deflated : frame.plain);
        n++;
      }
    }
    deliveries.inc(n);
    fanoutSeconds.observe(Number(process.hrtime.bigint() - t0) / 1e9);
  }

  async function room(streamId: string): Promise<Room> {
    const existing = rooms.get(streamId);
    if (existing) return existing;
    let loading = roomsLoading.get(streamId);
    if (!loading) {
      loading = (async () => {
        const r: Room = { state: undefined as unknown as StreamState, conns: new Set(), unsubscribe: () => {}, queued: [], flushes: 0 };
        const sub = await hub.subscribe(streamId, (batch, raw) => fanOut(r, batch, raw));
        r.state = sub.state;
        r.unsubscribe = sub.unsubscribe;
        rooms.set(streamId, r);
        return r;
      })().finally(() => roomsLoading.delete(streamId));
      roomsLoading.set(streamId, loading);
    }
    return await loading;
  }

  function release(r: Room, conn: Conn): void {
    if (!r.conns.delete(conn)) return;
    hub.leave(r.state.streamId);
    if (r.conns.size === 0 && rooms.get(r.state.streamId) === r) {
      rooms.delete(r.state.streamId);
      r.unsubscribe();
    }
  }

  async function onConnection(conn: Conn, streamId: string, after: number | null): Promise<void> {
    let r: Room;
    try {
      r = await room(streamId);
    } catch (e) {
      if (e instanceof StreamNotFoundError) conn.ws.close(4404, "stream not found");
      else {
        log.warn({ err: e }, "broadcast join failed");
        conn.ws.close(1011, "try again");
      }
      return;
    }
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    r.conns.add(conn);
    hub.join(r.state.streamId);
    conn.ws.once("close", () => release(r, conn));
    const s = r.state;
    const base = { type: "hello", stream_id: s.streamId, viewers: s.viewerCount ?? 0 };
    let lastSent = s.lastId;
    if (after === null) {
      sendJson(conn, { ...base, last_id: s.lastId, resumed: false, chat: hub.backlog(s) });
    } else {
      const { events, complete } = await hub.eventsSince(s, after).catch(() => ({ events: [], complete: false }));
      if (complete) {
        lastSent = events.at(-1)?.id ?? after;
        sendJson(conn, { ...base, last_id: lastSent, resumed: true });
        if (events.length) sendJson(conn, { type: "events", stream_id: s.streamId, events });
      } else {
        // Too long away: start over from the backlog.
        sendJson(conn, { ...base, last_id: s.lastId, resumed: false, chat: hub.backlog(s) });
      }
    }
    const pending = conn.pending ?? [];
    conn.pending = null;
    for (const batch of pending) {
      const fresh = batch.events.filter((e) => e.id > lastSent);
      if (fresh.length) sendJson(conn, { type: "events", stream_id: s.streamId, events: fresh });
      lastSent = Math.max(lastSent, batch.events.at(-1)?.id ?? 0);
    }
    conn.sentThrough = lastSent;
    conn.helloFlush = r.flushes;
    for (const msg of conn.held.splice(0)) sendJson(conn, msg);
  }

  // After the hub re-LISTENed (lost connection, database restart) events may have been missed: every
  // socket that already has its hello gets a resync with the reloaded state (docs/realtime-protocol.md).
  const offResync = hub.onResync((s) => {
    const r = rooms.get(s.streamId);
    if (!r || r.state !== s) return;
    // Batches that arrived before the reload go out first, so nothing older follows the resync.
    flushRoom(r);
    const msg = { type: "resync", stream_id: s.streamId, viewers: s.viewerCount ?? 0, last_id: s.lastId, chat: hub.backlog(s) };
    for (const conn of r.conns)
      if (!conn.pending) {
        sendJson(conn, msg);
        // A resync is a new hello (clients start over from it): the same rule for the next flush.
        conn.sentThrough = s.lastId;
        conn.helloFlush = r.flushes;
      }
  });

  // Ping every socket; one that did not answer the previous ping is gone.
  const pinger = setInterval(() => {
    for (const r of rooms.values()) {
      for (const conn of r.conns) {
        if (!conn.alive) {
          conn.ws.terminate();
          continue;
        }
        conn.alive = false;
        try {
          conn.ws.ping();
        } catch {
          conn.ws.terminate();
        }
      }
    }
  }, config.BROADCAST_PING_MS);
  pinger.unref();

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname !== BROADCAST_PATH) return false;
    // Per client address: the forwarded one behind a trusted proxy, IPv6 per /64 (client-address.ts).
    const ip = ctx.addressOf(req);
    if (!originAllowed(req, config)) {
      rejected.inc();
      rejectUpgrade(socket, 403, "Forbidden: origin not allowed");
      return true;
    }
    const streamId = url.searchParams.get("stream") ?? "";
    const afterRaw = url.searchParams.get("after");
    if (!UUID_RE.test(streamId) || (afterRaw !== null && !/^\d{1,18}$/.test(afterRaw))) {
      rejected.inc();
      rejectUpgrade(socket, 400, "Bad Request: ?stream=<uuid>[&after=<event id>]");
      return true;
    }
    const count = perIp.get(ip) ?? 0;
    if (count >= config.BROADCAST_MAX_PER_IP) {
      rejected.inc();
      rejectUpgrade(socket, 429, "Too Many Requests: connection limit per address");
      return true;
    }
    perIp.set(ip, count + 1);
    let counted = true;
    const uncount = () => {
      if (!counted) return;
      counted = false;
      const n = (perIp.get(ip) ?? 1) - 1;
      if (n > 0) perIp.set(ip, n);
      else perIp.delete(ip);
    };
    socket.once("close", uncount);
    wss.handleUpgrade(req, socket, head, (ws) => {
      const sid = streamId.toLowerCase();
      const conn: Conn = {
        ws,
        sock: socket as Socket,
        deflate: takesSharedDeflate(negotiated.get(req) ?? ""),
        ip,
        alive: true,
        pending: [],
        sentThrough: 0,
        helloFlush: -1,
        held: [],
        // Answers go out through the same writes as the batches (after the hello).
        sends: new SocketSends({ settingsFor: ctx.settingsFor, writes: ctx.writes, rate: config.BROADCAST_SEND_RATE }, sid, (msg) =>
          conn.pending ? conn.held.push(msg) : sendJson(conn, msg),
        ),
      };
      ws.on("pong", () => {
        conn.alive = true;
      });
      // Viewers send nothing; signed-in clients may send auth, chat and gift frames (broadcast-sends.ts).
      ws.on("message", (data, isBinary) => {
        conn.alive = true;
        conn.sends.onMessage(data as Buffer, isBinary);
      });
      ws.on("error", () => ws.terminate());
      ws.once("close", uncount);
      void onConnection(conn, sid, afterRaw === null ? null : Number(afterRaw));
    });
    return true;
  }

  return {
    name: "broadcast",
    upgrade,
    ready: () => hub.health(),
    async stop() {
      offResync();
      clearInterval(pinger);
      for (const r of rooms.values()) for (const c of r.conns) c.ws.terminate();
      rooms.clear();
    },
  };
}
