// `npm run bench crash [--smoke] [--crashes=3] [--down=0,3000] [--kill=on|off] [--streams=2]
//   [--gift-sockets=3] [--chat-rate=15] [--viewers=8] [--warmup=3] [--deadline=60]`
// Recovery after a PostgreSQL crash, measured under load against the real server (production mode,
// one process with the worker, fsync on): the "recovery" row group of `npm run bench matrix`.
//
// Load, per stream: `--gift-sockets` signed-in broadcast sockets, each with 2 gift frames in flight
// (one every ~150 ms after its ack), every gift with its own idempotency key; the broadcaster's socket
// sending `--chat-rate` chat frames per second; `--viewers` anonymous viewer sockets recording every
// message. A client whose gift got no ack (an error, no answer within 5 s, the socket gone) retries
// it with the same key, as a real client does; sockets that close reconnect (`after=`, backoff
// 0.25 s doubling to 2 s, jittered). Faults:
//   - `pg_ctl -m immediate` (cluster.restart), `--crashes` times per `--down` variant (ms the
//     database stays down before it starts again: 0 = restart at once, crash recovery included).
//     One viewer in four closes while the database is down, so the right viewer count after the
//     crash is a new one.
//   - (`--kill=on`) SIGKILL of the server process; a new one starts on the same port at once.
// For each fault, from the moment it was made: (a) chat frames acked again, (b) gift frames acked
// again (the first ack of a frame sent after the database was gone), (c) every viewer received an
// event created after the fault, (d) every viewer shows the right viewer count (and keeps it for
// 2.5 s), (e) every gift accepted before the fault is settled, (f) /readyz answers 200. Budget: each
// < 30 s. Then nothing lost: every gift acknowledged at any time is in the ledger exactly once, with
// the ledger id of its ack (un-acked gifts are retried with their key at the end until acked),
// app_private.gift_audit() is empty, each sender's wallet is what was issued minus its acknowledged
// gifts; acknowledged chat missing from the buffer and the transcript after a crash is counted and
// expressed in seconds of chat at the rate sent before the crash (budget ≤ 2 s: the transcript
// flush runs every 2 s). Rows go through matrixRow/emitRows (matrix-row.ts); per-fault detail and
// progress on stderr.
import { readdirSync, readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import pg from "pg";
import WebSocket from "ws";
import { applyCurrentMigration, currentMigrationFiles, ensureDatabase, migrateDatabase, setupRoles } from "../../db/tools.ts";
import { startTestApp, type TestApp } from "../support/app.ts";
import { freePort, startCluster } from "../support/cluster.ts";
import { createGiftWorld, type GiftWorld, tokenFor } from "../support/gifts.ts";
import { cloneDatabase, dbUrl, TEMPLATE_DB, TEST_AUTHENTICATOR_PASSWORD } from "../support/testdb.ts";
import { emitRows, fmt, type MatrixRow, matrixRow } from "./matrix-row.ts";

const BUDGET_MS = 30_000;
const CHAT_LOSS_BUDGET_S = 2;
/** A frame without an answer for this long is given up (a gift is then retried with its key). */
const FRAME_TIMEOUT_MS = 5000;
/** Viewer counts must stay right this long to count as right again (publish 1 s, presence flush 2 s). */
const COUNTS_STABLE_MS = 2500;
const GIFTS_IN_FLIGHT = 2;
const GIFT_PAUSE_MS = 150;
const ISSUED = 100_000_000;
const auditDir = fileURLToPath(new URL("../../db/audit/", import.meta.url));

function arg(args: string[], name: string, def: string): string {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : def;
}
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const jitter = (ms: number) => ms * (0.75 + Math.random() / 2);
const log = (m: string) => console.error(`  ${m}`);
const secs = (ms: number | null | undefined) => (ms == null || !Number.isFinite(ms) ? "-" : `${fmt(ms / 1000, 1)} s`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? ((s[(s.length - 1) >> 1] as number) + (s[s.length >> 1] as number)) / 2 : Number.NaN;
};

interface Answer {
  type: "ack" | "error";
  id: string;
  code?: string;
  retry_after?: number;
  receipt?: { gift_ledger_id: number; replayed: boolean };
  message?: { message_id: number };
}

/**
 * A broadcast socket that reconnects by itself (after=<last id>), signs in when it has a user, and
 * answers frames by id. `frame` resolves with the answer, or null: no answer in time, or not connected.
 */
class Sock {
  ready = false;
  connects = 0;
  private ws: WebSocket | null = null;
  private stopped = false;
  private seq = 0;
  private readonly waiting = new Map<string, (a: Answer | null) => void>();
  private readonly url: () => string;
  private readonly streamId: string;
  private readonly userId: string | null;
  private readonly onText: ((text: string, at: number) => void) | null;
  private readonly after: () => number | null;
  private firstReady: (() => void) | null = null;

  constructor(
    url: () => string,
    streamId: string,
    userId: string | null,
    onText: ((text: string, at: number) => void) | null = null,
    after: () => number | null = () => null,
  ) {
    this.url = url;
    this.streamId = streamId;
    this.userId = userId;
    this.onText = onText;
    this.after = after;
  }

  /** Connect (and keep reconnecting); resolves once connected the first time. */
  start(): Promise<void> {
    const first = new Promise<void>((r) => {
      this.firstReady = r;
    });
    void this.loop();
    return first;
  }

  private async loop(): Promise<void> {
    let backoff = 250;
    while (!this.stopped) {
      try {
        const { closed } = await this.connectOnce();
        backoff = 250;
        this.firstReady?.();
        this.firstReady = null;
        await closed;
      } catch {
        // refused, or closed before it was ready: back off and try again
      }
      this.ready = false;
      for (const done of this.waiting.values()) done(null);
      this.waiting.clear();
      if (this.stopped) return;
      await sleep(jitter(backoff));
      backoff = Math.min(backoff * 2, 2000);
    }
  }

  /** Connected, signed in when it has a user: `closed` resolves when the socket closes. */
  private async connectOnce(): Promise<{ closed: Promise<void> }> {
    const after = this.after();
    const ws = new WebSocket(
      `${this.url().replace(/^http/, "ws")}/broadcast?stream=${this.streamId}${after != null ? `&after=${after}` : ""}`,
      { perMessageDeflate: false, handshakeTimeout: 5000 },
    );
    this.ws = ws;
    const closed = new Promise<void>((r) => ws.once("close", () => r()));
    ws.on("error", () => {});
    let helloed: () => void = () => {};
    const hello = new Promise<void>((r) => {
      helloed = r;
    });
    ws.on("message", (data) => {
      const text = String(data);
      const at = Date.now();
      if (text.startsWith('{"type":"hello"')) helloed();
      else if (text.startsWith('{"type":"ack"') || text.startsWith('{"type":"error"')) {
        const a = JSON.parse(text) as Answer;
        const done = a.id == null ? undefined : this.waiting.get(String(a.id));
        if (done) {
          this.waiting.delete(String(a.id));
          done(a);
        }
      }
      this.onText?.(text, at);
    });
    const timeout = new Promise<string>((r) => setTimeout(() => r("no hello"), 10_000).unref());
    const first = await Promise.race([hello.then(() => null), closed.then(() => "closed"), timeout]);
    if (first !== null) {
      ws.terminate();
      throw new Error(first);
    }
    this.connects++;
    if (this.userId) {
      const a = await this.send({ type: "auth", token: await tokenFor(this.userId) }, FRAME_TIMEOUT_MS);
      if (a?.type !== "ack") {
        ws.terminate();
        throw new Error(`auth: ${a?.code ?? "no answer"}`);
      }
    }
    this.ready = true;
    return { closed };
  }

  private send(f: Record<string, unknown>, timeoutMs: number): Promise<Answer | null> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.resolve(null);
    const id = `f${this.seq++}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(null);
      }, timeoutMs);
      timer.unref();
      this.waiting.set(id, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
      ws.send(JSON.stringify({ ...f, id }));
    });
  }

  frame(f: Record<string, unknown>, timeoutMs = FRAME_TIMEOUT_MS): Promise<Answer | null> {
    return this.ready ? this.send(f, timeoutMs) : Promise.resolve(null);
  }

  stop(): void {
    this.stopped = true;
    this.ws?.terminate();
  }
}

/** A viewer: every hello/resync/viewer_count it saw (what it would show) and every events frame (when, newest event time). */
class Watcher {
  readonly counts: { t: number; v: number }[] = [];
  readonly frames: { rx: number; newest: number }[] = [];
  lastId: number | null = null;
  readonly sock: Sock;
  readonly stream: number;
  active = true;

  constructor(url: () => string, streamId: string, stream: number) {
    this.stream = stream;
    this.sock = new Sock(
      url,
      streamId,
      null,
      (text, at) => this.onText(text, at),
      () => this.lastId,
    );
  }

  private onText(text: string, at: number): void {
    const m = JSON.parse(text) as {
      type: string;
      viewers?: number;
      last_id?: number;
      events?: { id: number; kind: string; at: string; payload?: { viewers?: number } }[];
    };
    if (m.type === "hello" || m.type === "resync") {
      if (typeof m.viewers === "number") this.counts.push({ t: at, v: m.viewers });
      if (typeof m.last_id === "number") this.lastId = m.last_id;
    } else if (m.type === "events") {
      let newest = 0;
      for (const e of m.events ?? []) {
        newest = Math.max(newest, Date.parse(e.at));
        this.lastId = Math.max(this.lastId ?? 0, e.id);
        if (e.kind === "viewer_count" && typeof e.payload?.viewers === "number") this.counts.push({ t: at, v: e.payload.viewers });
      }
      this.frames.push({ rx: at, newest });
    }
  }

  /** When this viewer first received an event created at or after `from`. */
  freshEventAt(from: number): number | null {
    return this.frames.find((f) => f.rx >= from && f.newest >= from)?.rx ?? null;
  }

  /** Since when it has shown `expected` (only what it learned at or after `from`), or null if it does not now. */
  rightSince(expected: number, from: number): number | null {
    let since: number | null = null;
    for (let i = this.counts.length - 1; i >= 0; i--) {
      const c = this.counts[i] as { t: number; v: number };
      if (c.t < from || c.v !== expected) break;
      since = c.t;
    }
    return since;
  }

  stop(): void {
    this.active = false;
    this.sock.stop();
  }
}

type Part = "chat" | "gifts" | "viewers" | "counts" | "settled" | "readyz";
const PARTS: { part: Part; label: string }[] = [
  { part: "chat", label: "chat frames acked again" },
  { part: "gifts", label: "gift frames acked again" },
  { part: "viewers", label: "every viewer receives events again" },
  { part: "counts", label: "viewer counts right again" },
  { part: "settled", label: "every gift accepted before the fault settled" },
  { part: "readyz", label: "/readyz 200 again" },
];

interface Fault {
  kind: "crash" | "kill";
  variant: string;
  /** ms from the fault: the database up again (crash) or the new process listening (kill). */
  upMs: number;
  back: Record<Part, number | null>;
  chatRate: number;
  chatLost: number;
  /** How long before the fault the oldest lost message was acknowledged. */
  chatLostSpanMs: number;
}

export async function run(args: string[]): Promise<void> {
  const smoke = args.includes("--smoke");
  const crashes = Number(arg(args, "crashes", smoke ? "1" : "3"));
  const downs = arg(args, "down", smoke ? "0" : "0,3000")
    .split(",")
    .filter(Boolean)
    .map(Number);
  const kill = arg(args, "kill", smoke ? "off" : "on") === "on";
  const streams = Number(arg(args, "streams", smoke ? "1" : "2"));
  const giftSockets = Number(arg(args, "gift-sockets", smoke ? "2" : "3"));
  const chatRate = Number(arg(args, "chat-rate", smoke ? "10" : "15"));
  const viewersPer = Number(arg(args, "viewers", smoke ? "4" : "8"));
  const warmup = Number(arg(args, "warmup", smoke ? "2" : "3"));
  const deadlineMs = Number(arg(args, "deadline", "60")) * 1000;
  const startedAt = new Date();
  const t0 = performance.now();

  const cluster = await startCluster({ log });
  if (!cluster.restart) {
    await cluster.stop();
    throw new Error("bench crash needs PostgreSQL's own binaries (pg_ctl) to crash the cluster; only the embedded package was found");
  }
  const restart = cluster.restart;
  let app: TestApp | null = null;
  let pool: pg.Pool | null = null;
  let running = true;
  const socks: Sock[] = [];
  const watchers: Watcher[] = [];
  let cleaned: Promise<void> | null = null;
  const cleanup = () => {
    cleaned ??= (async () => {
      running = false;
      for (const s of socks) s.stop();
      for (const w of watchers) w.stop();
      await app?.stop("SIGKILL").catch(() => {});
      await pool?.end().catch(() => {});
      await cluster.stop();
    })();
    return cleaned;
  };
  // Interrupted: the server and the cluster go too.
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: stopping`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const rows: MatrixRow[] = [];
  const faults: Fault[] = [];
  let pgVersion = "";
  try {
    // ---- setup: cluster, migrated database, a world of live streams and funded senders, the server
    const clusterUrl = cluster.url();
    await setupRoles(clusterUrl, TEST_AUTHENTICATOR_PASSWORD);
    const admin = new pg.Client({ connectionString: clusterUrl });
    await admin.connect();
    // Durable as in production: a crash loses only what was never committed (and the UNLOGGED tables).
    await admin.query("alter system set fsync = on");
    await admin.query("alter system set synchronous_commit = on");
    await admin.query("select pg_reload_conf()");
    pgVersion = (await admin.query<{ v: string }>("select version() as v")).rows[0]?.v ?? "";
    await admin.end();
    const templateUrl = dbUrl(clusterUrl, TEMPLATE_DB);
    await ensureDatabase(templateUrl);
    await migrateDatabase(templateUrl);
    if (currentMigrationFiles().length) await applyCurrentMigration(templateUrl, log, process.env.TEST_CURRENT?.split(",").filter(Boolean));
    const t = new pg.Client({ connectionString: templateUrl });
    await t.connect();
    await t.query(readFileSync(fileURLToPath(new URL("../../db/test/helpers/tests.sql", import.meta.url)), "utf8"));
    await t.end();
    const db = await cloneDatabase(clusterUrl, "crash");
    const p = new pg.Pool({ connectionString: db.url, max: 3, connectionTimeoutMillis: 2000 });
    pool = p;
    // The crash ends our connections too: expected here.
    p.on("error", () => {});
    p.on("connect", (c) => c.on("error", () => {}));
    const world: GiftWorld = await createGiftWorld(p, {
      prefix: "cr",
      casters: streams,
      senderCoins: Array.from({ length: streams * giftSockets }, () => ISSUED),
      gifts: [{ slug: "cr-rose", price: 1 }],
    });
    const gift = world.gifts[0];
    if (!gift) throw new Error("world has no gift");
    const port = await freePort();
    const env = {
      LOG_LEVEL: "warn",
      RUN_WEB: "false",
      GRAPHILE_ENV: "production",
      NODE_ENV: "production",
      // A supervisor restarts the server on the same address: clients reconnect to it.
      PORT: String(port),
      // The load generator is one address.
      BROADCAST_MAX_PER_IP: "100000",
    };
    app = await startTestApp(env, { db });
    const url = () => (app as TestApp).url;
    log(`setup ${((performance.now() - t0) / 1000).toFixed(1)} s; server at ${url()}`);

    // ---- readiness samples and the load
    const readySamples: { sent: number; at: number; status: number }[] = [];
    const sampler = (async () => {
      while (running) {
        const sent = Date.now();
        const status = await fetch(`${url()}/readyz`, { signal: AbortSignal.timeout(3000) })
          .then(async (r) => {
            await r.arrayBuffer();
            return r.status;
          })
          .catch(() => 0);
        readySamples.push({ sent, at: Date.now(), status });
        await sleep(100);
      }
    })();

    interface GiftKey {
      sender: number;
      ledgerId: string | null;
      attempts: number;
      /** Acks with another ledger id than the first (the same gift counted twice). */
      conflicts: number;
    }
    const giftKeys = new Map<string, GiftKey>();
    const giftAcks: { sent: number; at: number }[] = [];
    const giftErrors = new Map<string, number>();
    const chatAcks: { sent: number; at: number; id: number }[] = [];
    const chatErrors = new Map<string, number>();
    const unverifiedChat = new Map<number, number>(); // message id -> acked at
    const count = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

    const sendGift = async (sock: Sock, key: string): Promise<boolean> => {
      const rec = giftKeys.get(key) as GiftKey;
      rec.attempts++;
      const sent = Date.now();
      const a = await sock.frame({ type: "gift", gift_id: gift.id, idempotency_key: key });
      if (a?.type === "ack" && a.receipt) {
        const id = String(a.receipt.gift_ledger_id);
        if (rec.ledgerId !== null && rec.ledgerId !== id) rec.conflicts++;
        rec.ledgerId ??= id;
        giftAcks.push({ sent, at: Date.now() });
        return true;
      }
      count(giftErrors, a?.code ?? "no answer");
      await sleep(a?.retry_after ? a.retry_after * 1000 : jitter(250));
      return false;
    };
    const giftLoop = async (sock: Sock, sender: number, lane: number) => {
      for (let n = 0; running; n++) {
        const key = `cr-${sender}-${lane}-${n}`;
        giftKeys.set(key, { sender, ledgerId: null, attempts: 0, conflicts: 0 });
        // Retry with the same key until acknowledged (or the load stops: then the final retry below).
        while (running && !(await sendGift(sock, key))) {}
        if (running) await sleep(jitter(GIFT_PAUSE_MS));
      }
    };
    const chatLoop = async (sock: Sock, stream: number) => {
      const every = 1000 / chatRate;
      let next = Date.now();
      let inFlight = 0;
      for (let n = 0; running; n++) {
        if (inFlight < 32) {
          inFlight++;
          const sent = Date.now();
          void sock.frame({ type: "chat", body: `crash load ${stream}.${n}` }).then((a) => {
            inFlight--;
            if (a?.type === "ack" && a.message) {
              chatAcks.push({ sent, at: Date.now(), id: a.message.message_id });
              unverifiedChat.set(a.message.message_id, Date.now());
            } else count(chatErrors, a?.code ?? "no answer");
          });
        }
        next += every;
        if (next < Date.now() - 1000) next = Date.now();
        await sleep(Math.max(0, next - Date.now()));
      }
    };

    const senderSocks: Sock[] = [];
    const loops: Promise<void>[] = [];
    for (let s = 0; s < streams; s++) {
      const caster = world.casters[s];
      if (!caster) throw new Error("world has too few casters");
      for (let v = 0; v < viewersPer; v++) watchers.push(new Watcher(url, caster.streamId, s));
      const chat = new Sock(url, caster.streamId, caster.id);
      socks.push(chat);
      for (let g = 0; g < giftSockets; g++) {
        const sender = s * giftSockets + g;
        const who = world.senders[sender];
        if (!who) throw new Error("world has too few senders");
        const sock = new Sock(url, caster.streamId, who.id);
        socks.push(sock);
        senderSocks[sender] = sock;
      }
    }
    await Promise.all([...socks.map((k) => k.start()), ...watchers.map((w) => w.sock.start())]);
    const loadStart = Date.now();
    for (let s = 0; s < streams; s++) loops.push(chatLoop(socks[s * (giftSockets + 1)] as Sock, s));
    for (const [sender, sock] of senderSocks.entries())
      for (let lane = 0; lane < GIFTS_IN_FLIGHT; lane++) loops.push(giftLoop(sock, sender, lane));
    const socketsOf = (s: number) => 1 + giftSockets + watchers.filter((w) => w.stream === s && w.active).length;
    const loadLabel = `${streams} stream${streams > 1 ? "s" : ""}: ${streams * giftSockets} gift sockets × ${GIFTS_IN_FLIGHT} in flight, ${streams} chat socket${streams > 1 ? "s" : ""} × ${chatRate}/s, ${streams * viewersPer} viewer sockets; fsync on`;
    log(`load: ${loadLabel}`);

    /** Every viewer shows the right count now, since when (max over viewers), or null. */
    const countsRightSince = (from: number): number | null => {
      let since = 0;
      for (const w of watchers.filter((x) => x.active)) {
        const s = w.rightSince(socketsOf(w.stream), from);
        if (s === null) return null;
        since = Math.max(since, s);
      }
      return since;
    };
    const waitCountsRight = async (what: string) => {
      const from = Date.now();
      const ok = await (async () => {
        for (const end = Date.now() + 20_000; Date.now() < end; await sleep(200)) {
          // Right, as far as each viewer knows (what it learned before `from` counts here).
          const right = watchers.filter((w) => w.active).every((w) => w.counts.at(-1)?.v === socketsOf(w.stream));
          if (right) return true;
        }
        return false;
      })();
      if (!ok) log(`warning: viewer counts not right ${what} within 20 s (${((Date.now() - from) / 1000).toFixed(0)} s)`);
    };
    const settledBefore = async (before: number): Promise<boolean> => {
      const { rows: r } = await p.query<{ n: string }>(
        "select count(*) as n from app_private.gift_settlement_queue where created_at < to_timestamp($1 / 1000.0)",
        [before],
      );
      return Number(r[0]?.n) === 0;
    };

    /** From `from` (the database or process gone) on: when each part is back, in ms after `fault`. */
    const measure = async (fault: number, from: number): Promise<Record<Part, number | null>> => {
      const at: Record<Part, number | null> = { chat: null, gifts: null, viewers: null, counts: null, settled: null, readyz: null };
      let countsSince: number | null = null;
      let countsSeenAt = 0;
      let lastSettledPoll = 0;
      const done = () => PARTS.every(({ part }) => at[part] !== null);
      while (!done() && Date.now() - fault < deadlineMs) {
        const now = Date.now();
        at.chat ??= chatAcks.find((a) => a.sent >= from)?.at ?? null;
        at.gifts ??= giftAcks.find((a) => a.sent >= from)?.at ?? null;
        if (at.viewers === null) {
          const got = watchers.filter((w) => w.active).map((w) => w.freshEventAt(from));
          if (got.every((x) => x !== null)) at.viewers = Math.max(...(got as number[]));
        }
        if (at.counts === null) {
          const since = countsRightSince(from);
          if (since === null) countsSince = null;
          else {
            if (countsSince !== since) countsSeenAt = now;
            countsSince = since;
            if (now - countsSeenAt >= COUNTS_STABLE_MS) at.counts = since;
          }
        }
        at.readyz ??= readySamples.find((s) => s.sent >= from && s.status === 200)?.at ?? null;
        if (at.settled === null && now - lastSettledPoll >= 250) {
          lastSettledPoll = now;
          if (await settledBefore(from).catch(() => false)) at.settled = Date.now();
        }
        await sleep(50);
      }
      for (const { part } of PARTS) {
        const v = at[part];
        at[part] = v === null ? null : Math.max(0, v - fault);
      }
      return at;
    };

    /** Acknowledged chat now in neither the buffer nor the transcript (lost), since the last check. */
    const lostChat = async (): Promise<number[]> => {
      const ids = [...unverifiedChat.keys()];
      if (!ids.length) return [];
      const { rows: r } = await p.query<{ id: string; durable: boolean }>(
        `select id::text, true as durable from app_private.chat_transcript where id = any($1::bigint[])
         union all select id::text, false from app_private.chat_messages where id = any($1::bigint[])`,
        [ids],
      );
      const found = new Map(r.map((x) => [Number(x.id), x.durable]));
      const lost: number[] = [];
      for (const id of ids) {
        const durable = found.get(id);
        if (durable === undefined) {
          lost.push(unverifiedChat.get(id) as number);
          unverifiedChat.delete(id);
        } else if (durable) unverifiedChat.delete(id);
      }
      return lost;
    };

    /** The fault `make` (it returns when the database is up / the new process listens), measured. */
    const faultOnce = async (kind: Fault["kind"], variant: string, make: (stopped: () => void) => Promise<void>) => {
      await sleep(warmup * 1000);
      await waitCountsRight("before the fault");
      // What a crash loses is counted from here.
      const before = await lostChat();
      if (before.length) log(`warning: ${before.length} acknowledged chat messages lost before the fault`);
      const fault = Date.now();
      // The rate chat was acknowledged at just before (the last 5 s, or since the load started).
      const rateWindow = Math.min(5000, fault - loadStart);
      const sentRate = chatAcks.filter((a) => a.at > fault - rateWindow && a.at <= fault).length / (rateWindow / 1000);
      let from = fault;
      const closed: Watcher[] = [];
      await make(() => {
        from = Date.now();
        // One viewer in four leaves while it is down: the right count afterwards is a new one.
        for (let s = 0; s < streams; s++) {
          const mine = watchers.filter((w) => w.stream === s && w.active);
          for (const w of mine.slice(0, Math.max(1, Math.floor(mine.length / 4)))) {
            w.stop();
            closed.push(w);
          }
        }
      });
      const upMs = Date.now() - fault;
      const back = await measure(fault, from);
      const lost = await lostChat();
      const f: Fault = {
        kind,
        variant,
        upMs,
        back,
        chatRate: sentRate,
        chatLost: lost.length,
        chatLostSpanMs: lost.length ? fault - Math.min(...lost) : 0,
      };
      faults.push(f);
      log(
        `${kind === "crash" ? "pg_ctl -m immediate" : "server SIGKILL"} (${variant}): up ${secs(upMs)}; ${PARTS.map(({ part }) => `${part} ${secs(back[part])}`).join(", ")}; chat lost ${lost.length} (${fmt(lost.length / sentRate, 2)} s at ${fmt(sentRate, 1)}/s)`,
      );
      // The viewers that left come back (new sockets) before the next fault.
      for (const w of closed) {
        const again = new Watcher(url, world.casters[w.stream]?.streamId ?? "", w.stream);
        watchers.push(again);
        await again.sock.start();
      }
      for (let i = watchers.length - 1; i >= 0; i--) if (!watchers[i]?.active) watchers.splice(i, 1);
    };

    for (const down of downs) {
      for (let i = 0; i < crashes; i++) {
        log(`crash ${i + 1}/${crashes}: pg_ctl -m immediate, ${down ? `down ${down / 1000} s` : "restart at once"}`);
        await faultOnce("crash", down ? `down ${down / 1000} s` : "restart at once", async (stopped) => {
          await restart({ mode: "immediate", downMs: down, onStopped: stopped });
        });
      }
    }
    if (kill) {
      log("server SIGKILL, a new process on the same port");
      await faultOnce("kill", "new process at once", async (stopped) => {
        const old = app as TestApp;
        const exited = new Promise<void>((r) => old.proc.once("exit", () => r()));
        old.proc.kill("SIGKILL");
        await exited;
        stopped();
        app = await startTestApp(env, { db });
      });
    }

    // ---- stop the load; what was never acknowledged is retried with its key until it is
    running = false;
    await Promise.all(loops);
    await sampler;
    const unacked = [...giftKeys.entries()].filter(([, k]) => k.ledgerId === null);
    const retryDeadline = Date.now() + 30_000;
    for (const [key, k] of unacked) {
      const sock = senderSocks[k.sender] as Sock;
      while (!(await sendGift(sock, key)) && Date.now() < retryDeadline) {}
    }
    // Chat still in the buffer moves to the transcript every 2 s.
    for (const end = Date.now() + 10_000; Date.now() < end && unverifiedChat.size; await sleep(500)) {
      const late = await lostChat();
      if (late.length) log(`warning: ${late.length} acknowledged chat messages lost after the faults`);
    }

    // ---- the books
    const { rows: ledger } = await p.query<{ id: string; key: string | null; sender_id: string; coins: string }>(
      "select id::text, idempotency_key as key, sender_id, coins::text from app_private.gift_ledger",
    );
    const byKey = new Map<string, string[]>();
    for (const r of ledger) byKey.set(r.key ?? "", [...(byKey.get(r.key ?? "") ?? []), r.id]);
    let acked = 0;
    let lost = 0;
    let doubled = 0;
    let neverAcked = 0;
    let retried = 0;
    for (const [key, k] of giftKeys) {
      const ids = byKey.get(key) ?? [];
      if (k.attempts > 1) retried++;
      if (k.ledgerId === null) {
        if (ids.length) neverAcked++;
        continue;
      }
      acked++;
      if (ids.length === 0) lost++;
      else if (ids.length > 1 || ids[0] !== k.ledgerId || k.conflicts) doubled++;
    }
    const strangers = ledger.filter((r) => !giftKeys.has(r.key ?? "")).length;
    const audit = (await p.query<{ invariant: string; detail: string }>("select invariant, detail from app_private.gift_audit()")).rows;
    const { rows: wallets } = await p.query<{ user_id: string; balance: string }>(
      "select user_id, balance::text from app_private.wallets where user_id = any($1::uuid[])",
      [world.senders.map((s) => s.id)],
    );
    const ackedBy = new Map<number, number>();
    for (const k of giftKeys.values()) if (k.ledgerId !== null) ackedBy.set(k.sender, (ackedBy.get(k.sender) ?? 0) + gift.price);
    const walletsWrong = world.senders.filter(
      (s, i) => Number(wallets.find((w) => w.user_id === s.id)?.balance ?? Number.NaN) !== ISSUED - (ackedBy.get(i) ?? 0),
    ).length;
    const audits = await Promise.all(
      readdirSync(auditDir)
        .filter((f) => f.endsWith(".sql"))
        .map(async (f) => ({ file: f, rows: (await p.query(readFileSync(`${auditDir}/${f}`, "utf8"))).rows.length })),
    );
    const loadSeconds = (giftAcks.at(-1)?.at ?? 0) - (giftAcks[0]?.at ?? 0);
    const giftRate = giftAcks.length / Math.max(1, loadSeconds / 1000);
    const chatSeconds = (chatAcks.at(-1)?.at ?? 0) - (chatAcks[0]?.at ?? 0);
    const chatAckRate = chatAcks.length / Math.max(1, chatSeconds / 1000);
    log(
      `gifts: ${giftKeys.size} keys, ${acked} acknowledged, ${retried} retried, errors ${JSON.stringify(Object.fromEntries(giftErrors))}; chat: ${chatAcks.length} acknowledged, errors ${JSON.stringify(Object.fromEntries(chatErrors))}`,
    );
    if (audit.length) log(`gift_audit(): ${JSON.stringify(audit).slice(0, 500)}`);

    // ---- rows
    const groups: { kind: Fault["kind"]; title: string }[] = [
      { kind: "crash", title: "pg_ctl -m immediate under load" },
      ...(kill ? [{ kind: "kill" as const, title: "server SIGKILL under load" }] : []),
    ];
    for (const g of groups) {
      const mine = faults.filter((f) => f.kind === g.kind);
      const variants = [...new Set(mine.map((f) => f.variant))];
      for (const { part, label } of PARTS) {
        const all = mine.map((f) => f.back[part]);
        const got = all.filter((x): x is number => x !== null);
        const worst = all.includes(null) ? null : Math.max(...got);
        const result = variants
          .map((v) => {
            const xs = mine.filter((f) => f.variant === v).map((f) => f.back[part]);
            const ok = xs.filter((x): x is number => x !== null);
            const up = median(mine.filter((f) => f.variant === v).map((f) => f.upMs));
            const head = `${v} (${g.kind === "crash" ? "database up" : "listening"} after ${secs(up)})`;
            if (ok.length < xs.length) return `${head}: not back within ${deadlineMs / 1000} s in ${xs.length - ok.length} of ${xs.length}`;
            return xs.length > 1
              ? `${head}: worst ${secs(Math.max(...ok))}, median ${secs(median(ok))} of ${xs.length}`
              : `${head}: ${secs(ok[0])}`;
          })
          .join("; ");
        rows.push(
          matrixRow({
            scenario: "crash",
            row: `${g.title} → ${label}`,
            load: loadLabel,
            result,
            budget: "< 30 s after the fault, every fault",
            ok: worst !== null && worst < BUDGET_MS,
            p50Ms: got.length ? median(got) : undefined,
            p99Ms: worst ?? undefined,
            naive:
              part === "counts" && g.kind === "crash"
                ? "old system: never (relay_state was not restored after a crash, so no viewer_count event was published again)"
                : undefined,
          }),
        );
      }
    }
    const crashFaults = faults.filter((f) => f.kind === "crash");
    const lossS = crashFaults.map((f) => f.chatLost / f.chatRate);
    const worstLoss = Math.max(0, ...lossS);
    const worstFault = crashFaults[lossS.indexOf(worstLoss)];
    const killLost = faults.filter((f) => f.kind === "kill").reduce((n, f) => n + f.chatLost, 0);
    rows.push(
      matrixRow({
        scenario: "crash",
        row: "nothing lost: every acknowledged gift in the ledger exactly once",
        hard: true,
        load: `${loadLabel}; ${faults.length} fault${faults.length > 1 ? "s" : ""}`,
        result: `${acked} of ${giftKeys.size} gifts acknowledged (${retried} only after a retry with their key, ${giftKeys.size - acked} never), ${lost} lost, ${doubled} doubled, ${neverAcked} charged but never acknowledged, ${strangers} unknown; gift_audit() ${audit.length} rows; ${walletsWrong} sender wallets ≠ issued − acknowledged`,
        budget: "0 lost, 0 doubled, gift_audit() empty, coins conserved",
        ok:
          acked === giftKeys.size &&
          lost === 0 &&
          doubled === 0 &&
          neverAcked === 0 &&
          strangers === 0 &&
          audit.length === 0 &&
          walletsWrong === 0,
        rate: giftRate,
        unit: "gifts/s",
      }),
      matrixRow({
        scenario: "crash",
        row: "nothing lost: acknowledged chat lost to a crash",
        load: `${loadLabel}; ${crashFaults.length} crash${crashFaults.length > 1 ? "es" : ""}`,
        result: `worst ${worstFault?.chatLost ?? 0} messages = ${fmt(worstLoss, 2)} s at ${fmt(worstFault?.chatRate, 1)} msgs/s (acknowledged up to ${secs(worstFault?.chatLostSpanMs)} before the crash), median ${fmt(median(lossS), 2)} s${kill ? `; server SIGKILL: ${killLost} lost` : ""}`,
        budget: `≤ ${CHAT_LOSS_BUDGET_S} s of chat per crash`,
        ok: crashFaults.length > 0 && worstLoss <= CHAT_LOSS_BUDGET_S && killLost === 0 && lossS.every(Number.isFinite),
        rate: chatAckRate,
        unit: "msgs/s",
      }),
      matrixRow({
        scenario: "crash",
        row: "nothing lost: db/audit/*.sql after recovery",
        hard: true,
        load: `${loadLabel}; ${faults.length} fault${faults.length > 1 ? "s" : ""}`,
        result: audits.map((a) => `${a.file} ${a.rows} rows`).join(", "),
        budget: "0 rows",
        ok: audits.every((a) => a.rows === 0),
      }),
    );
    // Per-fault detail (stderr: the table on stdout is the scenario's rows).
    console.error(`\n| fault | up | ${PARTS.map((x) => x.part).join(" | ")} | chat lost |`);
    console.error(`| --- | ---: | ${PARTS.map(() => "---:").join(" | ")} | ---: |`);
    for (const f of faults)
      console.error(
        `| ${f.kind === "crash" ? "pg_ctl -m immediate" : "SIGKILL"}, ${f.variant} | ${secs(f.upMs)} | ${PARTS.map(({ part }) => secs(f.back[part])).join(" | ")} | ${f.chatLost} (${fmt(f.chatLost / f.chatRate, 2)} s) |`,
      );
  } finally {
    await cleanup();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }

  emitRows(rows);
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
  console.log(
    `\nRecovery after a PostgreSQL crash${smoke ? " (smoke)" : ""}: ${startedAt.toISOString()}, ${machine}, ${pgVersion.split(" on ")[0]}, Node ${process.version}, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`,
  );
  console.log("| row | result | budget | verdict |");
  console.log("| --- | --- | --- | --- |");
  for (const r of rows) console.log(`| ${r.row} | ${r.result}${r.naive ? ` (${r.naive})` : ""} | ${r.budget} | ${r.verdict} |`);
}
