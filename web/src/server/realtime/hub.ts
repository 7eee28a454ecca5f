// The realtime hub: one per Node process (docs/architecture.md, rules 1, 5 and 6), created and stopped by app.ts and
// handed to the features (ServerContext.hub) and to GraphQL (the request context's `hub`).
//   - relay loop: every RELAY_TICK_MS it calls app_private.relay_stream_events(), which under an
//     advisory lock (one relay at a time across processes) sends one NOTIFY per stream per tick;
//     every few seconds it also moves buffered chat into the transcript.
//   - one LISTEN connection: LISTEN stream_events:<id> while this process has a subscriber to that
//     stream; each notification is parsed once and handed to every local subscriber.
//   - per-stream memory: recent events (catch-up without a query), the last chat messages (a new
//     viewer gets them without a query), the last viewer count.
//   - presence: live broadcast sockets and GraphQL subscriptions per stream, flushed to
//     app_private.flush_presence every PRESENCE_FLUSH_MS; no query per join.
//   - faults (docs/operations.md): while the database is down the loops back off exponentially with
//     jitter and log once when it goes and once when it is back. The LISTEN connection has TCP
//     keepalive and a heartbeat query every LISTEN_HEARTBEAT_MS, so a dead or half-open connection is
//     replaced within seconds; after every re-LISTEN each stream's memory is reloaded from the
//     database and subscribers get a resync (events sent meanwhile were missed). health() feeds /readyz.
import { hostname } from "node:os";
import pg from "pg";
import type { Logger } from "pino";
import { Counter, Gauge, type Registry } from "prom-client";
import { Outage, sleep, withTimeout } from "./backoff.ts";

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const CHANNEL_PREFIX = "stream_events:";

/** One event as the relay sends it (and the broadcast socket and streamEvents deliver it). */
export interface StreamEvent {
  id: number;
  kind: string;
  at: string;
  payload?: Record<string, unknown>;
  truncated?: boolean;
}

/** One NOTIFY payload: a batch of one stream's events, in delivery order. */
export interface EventBatch {
  stream_id: string;
  events: StreamEvent[];
}

/** A chat message as new viewers receive it (the payload of a `chat` event). */
export interface ChatPayload {
  message_id: number;
  body: string;
  client_id: string | null;
  sender: Record<string, unknown>;
  created_at: string;
}

export type BatchListener = (batch: EventBatch, raw: string) => void;
/** Called for each stream after a re-LISTEN, once its memory is reloaded: subscribers may have missed events. */
export type ResyncListener = (state: StreamState) => void;

/** How often the LISTEN connection proves it is alive (a `select 1` on it). */
export const LISTEN_HEARTBEAT_MS = 2000;
/** A heartbeat unanswered this long means the connection is dead (half-open): it is replaced. */
export const LISTEN_HEARTBEAT_TIMEOUT_MS = 3000;
/** Longest wait between retries while the database or the LISTEN connection is down (one query or
 * connection attempt per process per period: no flood, and recovery within this of the database). */
export const MAX_BACKOFF_MS = 2000;

export interface HubOptions {
  ownerPool: pg.Pool;
  logger: Logger;
  registry: Registry;
  relayTickMs: number;
  presenceFlushMs: number;
  transcriptFlushMs?: number;
  /** Recent events kept per stream for catch-up. */
  recentEvents?: number;
  /** Unknown stream ids remembered (refused without a query for MISSING_TTL_MS); oldest evicted past this. */
  missingMax?: number;
}

/** How long an unknown stream id is refused from memory. */
const MISSING_TTL_MS = 60_000;
/** Default cap on remembered unknown stream ids (client input: must not grow without bound). */
export const MISSING_MAX = 1000;

const BACKLOG = 50;

export interface StreamState {
  streamId: string;
  listeners: Set<BatchListener>;
  /** Recent events in delivery order. */
  recent: StreamEvent[];
  /** Every event of this stream with id >= coveredFrom is in `recent` (null: nothing seen yet). */
  coveredFrom: number | null;
  /** Last chat messages, oldest first (deleted ones removed). */
  chat: ChatPayload[];
  viewerCount: number | null;
  lastId: number;
  /** Resolves once the initial chat backlog is loaded; rejects when the stream does not exist. */
  ready: Promise<void>;
  listening: Promise<void>;
}

export class StreamNotFoundError extends Error {}

export class RealtimeHub {
  readonly nodeId = `${hostname()}/${process.pid}/${Math.random().toString(36).slice(2, 8)}`;
  private readonly opts: HubOptions;
  private readonly log: Logger;
  private readonly streams = new Map<string, StreamState>();
  private readonly presence = new Map<string, number>();
  private readonly presenceBy = new WeakMap<object, Map<string, number>>();
  private readonly missing = new Map<string, number>();
  private listenClient: pg.Client | null = null;
  private listenReady: Promise<pg.Client> | null = null;
  private stopped = false;
  private timers = new Set<NodeJS.Timeout>();
  private relayBusy = false;
  private relisting: Promise<void> | null = null;
  private readonly deadClients = new WeakSet<pg.Client>();
  private readonly resyncListeners = new Set<ResyncListener>();
  private readonly startedAt = Date.now();
  private lastRelayOkAt = 0;
  private lastListenOkAt = 0;
  private readonly dbOutage: Outage;
  private readonly listenOutage: Outage;
  private readonly metrics: { notifies: Counter; events: Counter; relayed: Counter; listeners: Gauge };

  constructor(opts: HubOptions) {
    this.opts = opts;
    this.log = opts.logger.child({ component: "realtime" });
    this.dbOutage = new Outage("database (relay loop)", this.log);
    this.listenOutage = new Outage("LISTEN connection", this.log);
    const existing = (name: string) => opts.registry.getSingleMetric(name);
    this.metrics = {
      notifies:
        (existing("trollcity_realtime_notifications_total") as Counter | undefined) ??
        new Counter({ name: "trollcity_realtime_notifications_total", help: "NOTIFY batches received", registers: [opts.registry] }),
      events:
        (existing("trollcity_realtime_events_total") as Counter | undefined) ??
        new Counter({ name: "trollcity_realtime_events_total", help: "Stream events received", registers: [opts.registry] }),
      relayed:
        (existing("trollcity_realtime_relayed_events_total") as Counter | undefined) ??
        new Counter({
          name: "trollcity_realtime_relayed_events_total",
          help: "Events relayed by this process",
          registers: [opts.registry],
        }),
      listeners:
        (existing("trollcity_realtime_connections") as Gauge | undefined) ??
        new Gauge({
          name: "trollcity_realtime_connections",
          help: "Live broadcast sockets + streamEvents subscriptions in this process",
          registers: [opts.registry],
        }),
    };
    // Sizes of the maps keyed by client input (stream ids): they must stay bounded under floods of unknown ids.
    if (!existing("trollcity_realtime_tracked_streams")) {
      const sizes = () => this.sizes();
      new Gauge({
        name: "trollcity_realtime_tracked_streams",
        help: "Stream ids held in this process's realtime maps (streams: subscribed, presence: watched, missing: remembered unknown)",
        labelNames: ["map"],
        registers: [opts.registry],
        collect() {
          for (const [map, n] of Object.entries(sizes())) this.set({ map }, n);
        },
      });
    }
  }

  /** Sizes of the maps keyed by stream id (metrics, tests). */
  sizes(): { streams: number; presence: number; missing: number } {
    return { streams: this.streams.size, presence: this.presence.size, missing: this.missing.size };
  }

  /** Remember an unknown stream id: most recent last; expired and oldest entries evicted (bounded). */
  private rememberMissing(streamId: string): void {
    const now = Date.now();
    this.missing.delete(streamId);
    this.missing.set(streamId, now + MISSING_TTL_MS);
    const max = this.opts.missingMax ?? MISSING_MAX;
    for (const [id, until] of this.missing) {
      if (this.missing.size <= max && until > now) break;
      this.missing.delete(id);
    }
  }

  private timer(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  /**
   * Run `fn` every `ms` (fixed rate, never overlapping). While it fails, wait with exponential
   * backoff and jitter instead (from `ms` up to MAX_BACKOFF_MS); `outage` logs the first failure and
   * the recovery.
   */
  private loop(ms: number, outage: Outage, fn: () => Promise<void>): void {
    const tick = async () => {
      if (this.stopped) return;
      const t0 = Date.now();
      let delay: number;
      try {
        await fn();
        outage.ok();
        delay = Math.max(0, ms - (Date.now() - t0));
      } catch (e) {
        delay = outage.fail(e, Math.max(ms, 100), MAX_BACKOFF_MS);
      }
      if (!this.stopped) this.timer(delay, () => void tick());
    };
    this.timer(ms, () => void tick());
  }

  start(): void {
    this.loop(this.opts.relayTickMs, this.dbOutage, async () => {
      await this.relayOnce();
    });
    // The same database as the relay loop, which already reports it going and coming back.
    this.loop(this.opts.presenceFlushMs, new Outage("database (presence flush)", this.log, { quiet: true }), () => this.flushPresence());
    this.loop(this.opts.transcriptFlushMs ?? 2000, new Outage("database (chat transcript flush)", this.log, { quiet: true }), async () => {
      await this.opts.ownerPool.query("select app_private.flush_chat_transcript()");
    });
    // The LISTEN connection is opened at start (not at the first subscriber) so /readyz can vouch for it.
    void this.relisten();
    const beat = () => {
      if (this.stopped) return;
      void this.heartbeat().finally(() => {
        if (!this.stopped) this.timer(LISTEN_HEARTBEAT_MS, beat);
      });
    };
    this.timer(LISTEN_HEARTBEAT_MS, beat);
  }

  /** One heartbeat on the LISTEN connection; a failed or unanswered one replaces the connection. */
  private async heartbeat(): Promise<void> {
    const c = this.listenClient;
    if (!c) return;
    try {
      await withTimeout(c.query("select 1"), LISTEN_HEARTBEAT_TIMEOUT_MS, "LISTEN heartbeat");
      this.lastListenOkAt = Date.now();
    } catch (e) {
      this.lost(c, e as Error);
    }
  }

  /** Subscribe to resyncs (after every re-LISTEN, per stream). */
  onResync(fn: ResyncListener): () => void {
    this.resyncListeners.add(fn);
    return () => this.resyncListeners.delete(fn);
  }

  /**
   * For /readyz: `relay` (the relay loop completed a tick recently), `listen` (the LISTEN connection
   * is up and answered its last heartbeat recently). Values are "ok" or a short reason, never raw errors.
   */
  health(): { relay: string; listen: string } {
    const now = Date.now();
    const relayMax = Math.max(5000, 20 * this.opts.relayTickMs);
    const listenMax = 2 * LISTEN_HEARTBEAT_MS + LISTEN_HEARTBEAT_TIMEOUT_MS;
    const since = (t: number) => `${Math.round((now - t) / 1000)} s`;
    const relay = this.dbOutage.down
      ? `failing (for ${Math.round(this.dbOutage.downForMs() / 1000)} s)`
      : this.lastRelayOkAt && now - this.lastRelayOkAt <= relayMax
        ? "ok"
        : this.lastRelayOkAt
          ? `stalled (no tick for ${since(this.lastRelayOkAt)})`
          : now - this.startedAt <= relayMax
            ? "starting"
            : `stalled (no tick for ${since(this.startedAt)})`;
    const listen =
      this.listenClient && this.lastListenOkAt && now - this.lastListenOkAt <= listenMax
        ? "ok"
        : this.listenOutage.down
          ? `reconnecting (down for ${Math.round(this.listenOutage.downForMs() / 1000)} s)`
          : this.listenClient
            ? `no heartbeat for ${since(this.lastListenOkAt || this.startedAt)}`
            : "connecting";
    return { relay, listen };
  }

  /** One relay tick (exported for tests/benches). Skips when another process holds the lock. */
  async relayOnce(): Promise<{ notifies: number; events: number }> {
    if (this.relayBusy) return { notifies: 0, events: 0 };
    this.relayBusy = true;
    try {
      const { rows } = await this.opts.ownerPool.query<{ notifies: number; events: number }>({
        name: "tc_relay",
        text: "select notifies, events from app_private.relay_stream_events()",
      });
      const r = rows[0] ?? { notifies: 0, events: 0 };
      if (r.events) this.metrics.relayed.inc(r.events);
      this.lastRelayOkAt = Date.now();
      return r;
    } finally {
      this.relayBusy = false;
    }
  }

  async flushPresence(): Promise<void> {
    const counts: Record<string, number> = {};
    for (const [id, n] of this.presence) if (n > 0) counts[id] = n;
    await this.opts.ownerPool.query({
      name: "tc_flush_presence",
      text: "select app_private.flush_presence($1, $2)",
      values: [this.nodeId, JSON.stringify(counts)],
    });
  }

  /** Presence: a connection (socket or subscription) started/ended watching a stream. */
  join(streamId: string): void {
    this.presence.set(streamId, (this.presence.get(streamId) ?? 0) + 1);
    this.metrics.listeners.inc();
  }

  leave(streamId: string): void {
    const n = (this.presence.get(streamId) ?? 0) - 1;
    if (n > 0) this.presence.set(streamId, n);
    else this.presence.delete(streamId);
    this.metrics.listeners.dec();
  }

  /**
   * Presence once per connection and stream: many subscriptions of one connection to one stream
   * count as one viewer (a client cannot inflate a viewer count, or force viral mode, with them).
   * `key` is the connection (any object); the first join per key and stream joins, the last leave leaves.
   */
  joinFor(key: object, streamId: string): void {
    let streams = this.presenceBy.get(key);
    if (!streams) {
      streams = new Map();
      this.presenceBy.set(key, streams);
    }
    const n = streams.get(streamId) ?? 0;
    streams.set(streamId, n + 1);
    if (n === 0) this.join(streamId);
  }

  leaveFor(key: object, streamId: string): void {
    const streams = this.presenceBy.get(key);
    const n = streams?.get(streamId) ?? 0;
    if (!streams || n === 0) return;
    if (n > 1) streams.set(streamId, n - 1);
    else {
      streams.delete(streamId);
      this.leave(streamId);
    }
  }

  localCount(streamId: string): number {
    return this.presence.get(streamId) ?? 0;
  }

  private async listener(): Promise<pg.Client> {
    if (this.listenClient) return this.listenClient;
    if (!this.listenReady) {
      this.listenReady = (async () => {
        // TCP keepalive: the kernel notices a peer that vanished (the heartbeat notices sooner).
        // Named so operators (and the fault tests) can find it in pg_stat_activity.
        const application_name = `${this.opts.ownerPool.options.application_name ?? process.env.PGAPPNAME ?? "trollcity"}:listen`;
        const client = new pg.Client({
          ...this.opts.ownerPool.options,
          application_name,
          keepAlive: true,
          keepAliveInitialDelayMillis: 5000,
        });
        client.on("notification", (msg) => this.onNotification(msg.channel, msg.payload ?? ""));
        client.on("error", (e) => this.lost(client, e));
        client.on("end", () => this.lost(client, new Error("LISTEN connection ended")));
        try {
          await withTimeout(client.connect(), 10_000, "LISTEN connect");
        } catch (e) {
          this.deadClients.add(client);
          destroyClient(client);
          throw e;
        }
        if (this.deadClients.has(client)) throw new Error("LISTEN connection lost while connecting");
        this.listenClient = client;
        this.lastListenOkAt = Date.now();
        return client;
      })().catch((e: unknown) => {
        this.listenReady = null;
        throw e;
      });
    }
    return await this.listenReady;
  }

  /** The LISTEN connection failed (error, end, missed heartbeat): drop it and listen again. */
  private lost(client: pg.Client, e: Error): void {
    if (this.deadClients.has(client)) return;
    this.deadClients.add(client);
    if (this.listenClient === client) {
      this.listenClient = null;
      this.listenReady = null;
    }
    destroyClient(client);
    if (this.stopped) return;
    this.listenOutage.fail(e, 200, MAX_BACKOFF_MS);
    void this.relisten();
  }

  /**
   * (Re)open the LISTEN connection and listen to every stream that has subscribers, retrying with
   * backoff. After a lost connection, events may have been sent while nobody listened (and after a
   * database crash the outbox is empty and delivery numbers may restart lower): every stream's
   * memory is reloaded from the database and its subscribers get a resync.
   */
  private relisten(): Promise<void> {
    this.relisting ??= (async () => {
      try {
        while (!this.stopped) {
          try {
            const client = await this.listener();
            for (const id of this.streams.keys()) await client.query(`listen "${CHANNEL_PREFIX}${id}"`);
            if (this.listenOutage.down) await this.resyncAll();
            if (this.listenClient !== client) throw new Error("LISTEN connection lost while resyncing");
            this.listenOutage.ok();
            return;
          } catch (e) {
            await sleep(this.listenOutage.fail(e, 200, MAX_BACKOFF_MS));
          }
        }
      } finally {
        this.relisting = null;
      }
    })();
    return this.relisting;
  }

  /** Reload every stream's memory from the database, then tell its subscribers. */
  private async resyncAll(): Promise<void> {
    for (const s of [...this.streams.values()]) {
      if (this.streams.get(s.streamId) !== s) continue;
      s.recent = [];
      s.coveredFrom = null;
      s.chat = [];
      s.lastId = 0;
      s.viewerCount = null;
      try {
        await this.load(s);
      } catch (e) {
        if (e instanceof StreamNotFoundError) continue;
        throw e;
      }
      for (const fn of this.resyncListeners) {
        try {
          fn(s);
        } catch (err) {
          this.log.warn({ err }, "resync listener failed");
        }
      }
    }
  }

  private onNotification(channel: string, raw: string): void {
    if (!channel.startsWith(CHANNEL_PREFIX)) return;
    const s = this.streams.get(channel.slice(CHANNEL_PREFIX.length));
    if (!s) return;
    let batch: EventBatch;
    try {
      batch = JSON.parse(raw) as EventBatch;
    } catch {
      this.log.warn({ channel }, "unparseable stream event batch");
      return;
    }
    this.metrics.notifies.inc();
    this.metrics.events.inc(batch.events.length);
    this.absorb(s, batch.events);
    for (const l of s.listeners) {
      try {
        l(batch, raw);
      } catch (e) {
        this.log.warn({ err: e }, "stream listener failed");
      }
    }
  }

  private absorb(s: StreamState, events: StreamEvent[]): void {
    const max = this.opts.recentEvents ?? 1000;
    for (const e of events) {
      if (e.id <= s.lastId) continue;
      s.lastId = e.id;
      if (s.coveredFrom === null) s.coveredFrom = e.id;
      s.recent.push(e);
      const p = e.payload;
      if (e.kind === "chat" && p) {
        // Already there when the backlog was loaded after the message was accepted.
        if (s.chat.some((m) => m.message_id === p.message_id)) continue;
        s.chat.push(p as unknown as ChatPayload);
        if (s.chat.length > BACKLOG * 2) s.chat.splice(0, s.chat.length - BACKLOG * 2);
      } else if (e.kind === "chat_deleted" && p) {
        if (typeof p.message_id === "number") s.chat = s.chat.filter((m) => m.message_id !== p.message_id);
        if (typeof p.user_id === "string") s.chat = s.chat.filter((m) => m.sender.id !== p.user_id);
      } else if (e.kind === "viewer_count" && p && typeof p.viewers === "number") {
        s.viewerCount = p.viewers;
      }
    }
    if (s.recent.length > max) {
      s.recent.splice(0, s.recent.length - max);
      s.coveredFrom = s.recent[0]?.id ?? null;
    }
  }

  /**
   * Subscribe to a stream's batches. The first subscriber in this process LISTENs and loads the chat
   * backlog (one query per stream per process); later ones cost no query.
   */
  async subscribe(streamId: string, fn: BatchListener): Promise<{ state: StreamState; unsubscribe: () => void }> {
    if (!UUID_RE.test(streamId)) throw new StreamNotFoundError(`"${streamId}" is not a stream id`);
    streamId = streamId.toLowerCase();
    const missingUntil = this.missing.get(streamId);
    if (missingUntil !== undefined) {
      if (missingUntil > Date.now()) throw new StreamNotFoundError(`stream ${streamId} not found`);
      this.missing.delete(streamId);
    }
    let s = this.streams.get(streamId);
    if (!s) {
      const state: StreamState = {
        streamId,
        listeners: new Set(),
        recent: [],
        coveredFrom: null,
        chat: [],
        viewerCount: null,
        lastId: 0,
        ready: Promise.resolve(),
        listening: Promise.resolve(),
      };
      s = state;
      this.streams.set(streamId, state);
      state.listening = this.listener().then(async (c) => {
        await c.query(`listen "${CHANNEL_PREFIX}${streamId}"`);
      });
      state.ready = state.listening.then(() => this.load(state));
      state.ready.catch(() => {
        if (state.listeners.size === 0) this.drop(state);
      });
    }
    const state = s;
    state.listeners.add(fn);
    try {
      await state.ready;
    } catch (e) {
      state.listeners.delete(fn);
      if (state.listeners.size === 0) this.drop(state);
      throw e;
    }
    let done = false;
    return {
      state,
      unsubscribe: () => {
        if (done) return;
        done = true;
        state.listeners.delete(fn);
        if (state.listeners.size === 0) this.drop(state);
      },
    };
  }

  /** Load a stream's chat backlog, viewer count and newest delivered id (after LISTEN, so nothing falls between). */
  private async load(state: StreamState): Promise<void> {
    const streamId = state.streamId;
    const { rows } = await this.opts.ownerPool.query<{
      found: boolean;
      chat: ChatPayload[] | null;
      viewers: number;
      last_id: string | null;
    }>(
      `select true as found,
              (select max(e.seq) from app_private.stream_events e where e.stream_id = s.id and e.seq is not null) as last_id,
              (select json_agg(json_build_object('message_id', m.id, 'body', m.body, 'client_id', m.client_id,
                        'sender', m.sender, 'created_at', m.created_at) order by m.id)
                 from app_public.recent_chat_messages(s.id) m) as chat,
              app_public.streams_viewer_count(s) as viewers
         from app_public.streams s where s.id = $1`,
      [streamId],
    );
    const row = rows[0];
    if (!row) {
      this.rememberMissing(streamId);
      throw new StreamNotFoundError(`stream ${streamId} not found`);
    }
    // Messages that arrived as events while loading are newer: keep both, without duplicates.
    const seen = new Set(state.chat.map((m) => m.message_id));
    state.chat = [...(row.chat ?? []).filter((m) => !seen.has(m.message_id)), ...state.chat];
    state.viewerCount ??= row.viewers;
    // We were LISTENing before this query: every event after the newest relayed one reaches us.
    const dbLast = row.last_id === null ? 0 : Number(row.last_id);
    state.lastId = Math.max(state.lastId, dbLast);
    state.coveredFrom = Math.min(state.coveredFrom ?? Number.POSITIVE_INFINITY, dbLast + 1);
  }

  private drop(state: StreamState): void {
    if (this.streams.get(state.streamId) !== state) return;
    this.streams.delete(state.streamId);
    const c = this.listenClient;
    if (c) c.query(`unlisten "${CHANNEL_PREFIX}${state.streamId}"`).catch(() => {});
  }

  /** The last chat messages a new viewer sees (no query). */
  backlog(state: StreamState): ChatPayload[] {
    return state.chat.slice(-BACKLOG);
  }

  /**
   * Events of a stream after `afterId`: from memory when it covers the gap, else from the outbox.
   * `complete` is false when the outbox no longer holds everything (the client must reload).
   */
  async eventsSince(state: StreamState, afterId: number): Promise<{ events: StreamEvent[]; complete: boolean }> {
    if (state.coveredFrom !== null && afterId >= state.coveredFrom - 1) {
      return { events: state.recent.filter((e) => e.id > afterId), complete: true };
    }
    const { rows } = await this.opts.ownerPool.query<{ events: StreamEvent[] | null; oldest: string | null }>(
      `select (select json_agg(json_build_object('id', e.id, 'kind', e.kind, 'at', e.at, 'payload', e.payload) order by e.id)
                 from app_public.stream_events_since($1, $2) e) as events,
              (select min(seq) from app_private.stream_events where seq is not null) as oldest`,
      [state.streamId, afterId],
    );
    const events = (rows[0]?.events ?? []).filter((e) => e.id > afterId && (state.coveredFrom === null || e.id < state.coveredFrom));
    const fromMemory = state.coveredFrom === null ? [] : state.recent;
    const oldest = rows[0]?.oldest == null ? null : Number(rows[0].oldest);
    // Complete when the outbox still reaches back to the client's last id (ids are shared by all streams).
    const complete = oldest !== null && afterId >= oldest - 1;
    return { events: [...events, ...fromMemory.filter((e) => e.id > afterId)], complete };
  }

  /** Bounded in every state (database down, half-open LISTEN connection): at most ~2 s. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await withTimeout(this.opts.ownerPool.query("select app_private.clear_presence($1)", [this.nodeId]), 1000, "clear presence").catch(
      () => {},
    );
    const c = this.listenClient;
    this.listenClient = null;
    if (c) {
      this.deadClients.add(c);
      await withTimeout(c.end(), 1000, "LISTEN close").catch(() => destroyClient(c));
    }
  }
}

/** Close a client's socket at once (no goodbye to a server that may not answer). */
function destroyClient(client: pg.Client): void {
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  client.end().catch(() => {});
}
