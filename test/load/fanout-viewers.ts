// Worker thread for `npm run bench chat` (fan-out): thousands of "remote" viewers that cost this box
// little, so the load generator does not starve the server it measures (issue 5: "the load generator
// may emulate remote viewers by reading most sockets lazily, as long as every delivery is counted").
//
// Each viewer is a raw TCP socket that speaks just enough websocket: the upgrade request, unmasked
// server frames, masked client frames (graphql-ws messages, pongs). Sockets stay paused; every
// `drainMs` each one is resumed once, the kernel hands over everything queued in one read, and the
// frames are walked by their headers. A frame is not JSON-parsed per socket: every socket of a
// process gets the same bytes, so a frame is identified by its first event id (plus its length, which
// must match) and parsed once for all sockets. Per socket we keep the count of bench chat messages
// (`body` "t=<ms>") and check that frame keys only increase: a count equal to the number of messages
// sent with increasing keys means the socket received every message id exactly once.
// Pings are answered (the broadcast socket pings every BROADCAST_PING_MS, graphql-ws every 12 s).
//
// Messages: main → worker {cmd:"connect", n} | {cmd:"finish"} | {cmd:"close"}; worker → main replies
// with the same `cmd` and its result. Loopback only.
import { randomBytes } from "node:crypto";
import net from "node:net";
import { parentPort, workerData } from "node:worker_threads";
import { constants, crc32, inflateRawSync } from "node:zlib";

export interface ViewerWorkerData {
  host: string;
  port: number;
  /** Request path, e.g. /broadcast?stream=… or /graphql. */
  path: string;
  protocol: "broadcast" | "graphql";
  /** graphql-ws subscribe payload (protocol "graphql"). */
  subscribe?: { query: string; variables: Record<string, unknown> };
  drainMs: number;
  /** Offer permessage-deflate as browsers do (broadcast socket). */
  deflate?: boolean;
}

export interface ViewerStats {
  sockets: number;
  open: number;
  /** Bench chat messages counted over all sockets. */
  delivered: number;
  /** Distinct bench chat message ids seen (over all frames). */
  distinctIds: number;
  /** Sockets whose count equals distinctIds with increasing frame keys. */
  complete: number;
  minCount: number;
  maxCount: number;
  /** Frames whose key was known with another length (parsed on their own; 0 expected). */
  mismatched: number;
  /** Frames that went backwards or repeated on a socket (0 expected). */
  outOfOrder: number;
  /** Frames the lazy reader could not handle (fragmented, masked, ...; 0 expected). */
  unsupported: number;
  bytes: number;
  frames: number;
  /** Frames that arrived deflated (permessage-deflate, one shared frame per batch). */
  deflated: number;
  /** Longest time a socket went unread, in ms. */
  maxGapMs: number;
  /** Time the final read of every socket took (long: data was still on its way). */
  finalDrainMs: number;
}

interface Viewer {
  sock: net.Socket;
  /** Handshake done (HTTP 101 seen). */
  upgraded: boolean;
  /** graphql-ws: subscribed; broadcast: hello seen. */
  ready: boolean;
  rest: Buffer | null;
  count: number;
  lastKey: number;
  open: boolean;
  lastRead: number;
  onReady?: () => void;
}

const data = workerData as ViewerWorkerData;
const viewers: Viewer[] = [];
/** First event id of a frame → its length and the bench chat message ids it carries. */
const canonical = new Map<number, { len: number; ids: number[] }>();
const allIds = new Set<number>();
/** A deflated frame's CRC-32 → its length, first event id and bench chat message ids. */
const deflatedCanonical = new Map<number, { len: number; first: number; ids: number[] }>();
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const stats = { mismatched: 0, outOfOrder: 0, unsupported: 0, bytes: 0, frames: 0, deflated: 0, maxGapMs: 0 };
let flowing = false;

/** A masked client frame (mask key 0: the payload bytes stay as they are). */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len, 0, 0, 0, 0]) : Buffer.alloc(8);
  if (len >= 126) {
    head[0] = 0x80 | opcode;
    head[1] = 0x80 | 126;
    head.writeUInt16BE(len, 2);
  }
  return Buffer.concat([head, payload]);
}

function benchIds(events: unknown): number[] {
  const ids: number[] = [];
  if (!Array.isArray(events)) return ids;
  for (const e of events as { kind?: string; payload?: { body?: unknown; message_id?: unknown } | null }[]) {
    const body = e.payload?.body;
    if (e.kind === "chat" && typeof body === "string" && body.startsWith("t=")) ids.push(Number(e.payload?.message_id));
  }
  return ids;
}

function parseIds(payload: Buffer): number[] {
  const msg = JSON.parse(payload.toString("utf8")) as {
    events?: unknown;
    payload?: { data?: { streamEvents?: { events?: unknown } } };
  };
  const ids = benchIds(msg.events ?? msg.payload?.data?.streamEvents?.events);
  for (const id of ids) allIds.add(id);
  return ids;
}

/** The first number after the first '[' of the payload (the first event's id in both protocols), or -1. */
function firstEventId(buf: Buffer, start: number, end: number): number {
  let i = buf.indexOf(0x5b, start); // '['
  if (i < 0 || i >= end) return -1;
  for (; i < end; i++) {
    const d = (buf[i] as number) - 48;
    if (d >= 0 && d <= 9) break;
  }
  if (i >= end) return -1;
  let n = 0;
  for (; i < end; i++) {
    const d = (buf[i] as number) - 48;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
  }
  return n;
}

function onText(v: Viewer, buf: Buffer, start: number, end: number): void {
  if (!v.ready) {
    const text = buf.toString("utf8", start, Math.min(end, start + 64));
    if (data.protocol === "broadcast" && text.startsWith('{"type":"hello"')) {
      v.ready = true;
      v.onReady?.();
      return;
    }
    if (data.protocol === "graphql" && text.includes('"connection_ack"')) {
      const sub = JSON.stringify({ id: "1", type: "subscribe", payload: data.subscribe });
      v.sock.write(clientFrame(1, Buffer.from(sub)));
      v.ready = true;
      v.onReady?.();
      return;
    }
  }
  const key = firstEventId(buf, start, end);
  if (key < 0) return;
  const len = end - start;
  let c = canonical.get(key);
  let ids: number[];
  if (!c) {
    c = { len, ids: parseIds(buf.subarray(start, end)) };
    canonical.set(key, c);
    ids = c.ids;
  } else if (c.len !== len) {
    stats.mismatched++;
    ids = parseIds(buf.subarray(start, end));
  } else ids = c.ids;
  if (key <= v.lastKey) stats.outOfOrder++;
  v.lastKey = key;
  v.count += ids.length;
}

/** A deflated text frame: the same bytes reach every socket, so it is inflated and parsed once. */
function onDeflated(v: Viewer, buf: Buffer, start: number, end: number): void {
  stats.deflated++;
  const payload = buf.subarray(start, end);
  const key = crc32(payload);
  let c = deflatedCanonical.get(key);
  if (!c || c.len !== payload.length) {
    if (c) stats.mismatched++;
    let text: Buffer;
    try {
      text = inflateRawSync(Buffer.concat([payload, TRAILER]), { finishFlush: constants.Z_SYNC_FLUSH });
    } catch {
      stats.unsupported++;
      return;
    }
    c = { len: payload.length, first: firstEventId(text, 0, text.length), ids: parseIds(text) };
    deflatedCanonical.set(key, c);
  }
  if (c.first < 0) return;
  if (c.first <= v.lastKey) stats.outOfOrder++;
  v.lastKey = c.first;
  v.count += c.ids.length;
}

function onFrames(v: Viewer, chunk: Buffer): void {
  let buf = v.rest ? Buffer.concat([v.rest, chunk]) : chunk;
  v.rest = null;
  if (!v.upgraded) {
    const end = buf.indexOf("\r\n\r\n");
    if (end < 0) {
      v.rest = Buffer.from(buf);
      return;
    }
    if (!buf.toString("latin1", 0, 12).startsWith("HTTP/1.1 101")) {
      stats.unsupported++;
      v.sock.destroy();
      return;
    }
    v.upgraded = true;
    if (data.protocol === "graphql") v.sock.write(clientFrame(1, Buffer.from('{"type":"connection_init","payload":{}}')));
    buf = buf.subarray(end + 4);
  }
  let off = 0;
  const n = buf.length;
  while (n - off >= 2) {
    const b0 = buf[off] as number;
    const b1 = buf[off + 1] as number;
    let len = b1 & 0x7f;
    let hdr = 2;
    if (len === 126) {
      if (n - off < 4) break;
      len = buf.readUInt16BE(off + 2);
      hdr = 4;
    } else if (len === 127) {
      if (n - off < 10) break;
      len = buf.readUIntBE(off + 4, 6);
      hdr = 10;
    }
    if (n - off < hdr + len) break;
    const start = off + hdr;
    const end = start + len;
    off = end;
    stats.frames++;
    const opcode = b0 & 0x0f;
    if ((b1 & 0x80) !== 0 || (b0 & 0x80) === 0) stats.unsupported++;
    else if (opcode === 1 && (b0 & 0x40) !== 0 && data.deflate) onDeflated(v, buf, start, end);
    else if (opcode === 1) onText(v, buf, start, end);
    else if (opcode === 9) v.sock.write(clientFrame(0xa, Buffer.from(buf.subarray(start, end))));
    else if (opcode === 8) v.open = false;
    else if (opcode !== 0xa) stats.unsupported++;
  }
  if (off < n) v.rest = Buffer.from(buf.subarray(off));
}

/** One read buffer for every socket (reads are handled synchronously): no allocation per read. */
const readBuffer = Buffer.alloc(65536);

function connectOne(): Promise<Viewer> {
  return new Promise((resolve) => {
    const sock = net.connect({
      host: data.host,
      port: data.port,
      onread: {
        buffer: readBuffer,
        callback: (nread: number, buf: Buffer) => {
          stats.bytes += nread;
          onFrames(v, buf.subarray(0, nread));
          if (!v.ready || flowing || nread === buf.length) return true;
          // Read again on this socket's next turn (the kernel keeps what arrives meanwhile).
          const now = performance.now();
          stats.maxGapMs = Math.max(stats.maxGapMs, now - v.lastRead);
          v.lastRead = now;
          return false;
        },
      },
    });
    const v: Viewer = { sock, upgraded: false, ready: false, rest: null, count: 0, lastKey: -1, open: true, lastRead: 0 };
    let settled = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      resolve(v);
    };
    v.onReady = () => {
      v.onReady = undefined;
      v.lastRead = performance.now();
      settle();
    };
    sock.setNoDelay(true);
    sock.on("connect", () => {
      const key = randomBytes(16).toString("base64");
      const proto = data.protocol === "graphql" ? "Sec-WebSocket-Protocol: graphql-transport-ws\r\n" : "";
      const ext = data.deflate ? "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" : "";
      sock.write(
        `GET ${data.path} HTTP/1.1\r\nHost: ${data.host}:${data.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${proto}${ext}\r\n`,
      );
    });
    sock.on("error", () => {});
    sock.on("close", () => {
      v.open = false;
      settle();
    });
  });
}

// Resume a slice of the sockets every tick so each one is read about once per drainMs.
const TICK = 25;
let cursor = 0;
let due = 0;
setInterval(() => {
  if (flowing || viewers.length === 0) return;
  due += (viewers.length * TICK) / data.drainMs;
  const slice = Math.floor(due);
  due -= slice;
  for (let k = 0; k < slice; k++) {
    const v = viewers[cursor++ % viewers.length] as Viewer;
    if (v.open && v.ready) v.sock.resume();
  }
}, TICK);

function summary(): Omit<ViewerStats, "finalDrainMs"> {
  let complete = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  let delivered = 0;
  let open = 0;
  for (const v of viewers) {
    if (v.open) open++;
    delivered += v.count;
    min = Math.min(min, v.count);
    max = Math.max(max, v.count);
    if (v.count === allIds.size) complete++;
  }
  return {
    sockets: viewers.length,
    open,
    delivered,
    distinctIds: allIds.size,
    complete: stats.outOfOrder === 0 && stats.mismatched === 0 ? complete : 0,
    minCount: viewers.length ? min : 0,
    maxCount: max,
    ...stats,
  };
}

const port = parentPort;
if (!port) throw new Error("fanout-viewers.ts runs as a worker thread");
port.on("message", async (m: { cmd: string; n?: number; sent?: number }) => {
  if (m.cmd === "connect") {
    const batch = await Promise.all(Array.from({ length: m.n ?? 0 }, () => connectOne()));
    viewers.push(...batch);
    port.postMessage({ cmd: "connect", open: batch.filter((v) => v.open && v.ready).length });
  } else if (m.cmd === "finish") {
    // Read everything that is queued: every socket flows until each has counted `sent` messages
    // (or nothing arrived for 3 s: what is missing then was not delivered).
    const t0 = performance.now();
    flowing = true;
    for (const v of viewers) if (v.open) v.sock.resume();
    let last = -1;
    let quietSince = performance.now();
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      if (stats.bytes !== last) {
        last = stats.bytes;
        quietSince = performance.now();
      }
      if (viewers.every((v) => v.count >= (m.sent ?? 0)) || performance.now() - quietSince > 3000) break;
    }
    port.postMessage({ cmd: "finish", stats: { ...summary(), finalDrainMs: performance.now() - t0 } });
  } else if (m.cmd === "close") {
    for (const v of viewers) v.sock.destroy();
    port.postMessage({ cmd: "close" });
  }
});
