// Browser client for the broadcast socket (docs/realtime-protocol.md): one receive-only websocket per
// stream and page, shared by every component that subscribes (each socket counts as a viewer), with
// reconnects that back off and resume from the last seen event id. A signed-in page also sends chat
// and gifts on it (`sendFrame`: one `auth` frame per connection, then frames answered by `ack` or
// `error`, docs/realtime-protocol.md "Sending"); #lib/chat.ts and #lib/gifts.ts fall back to GraphQL
// when the socket is not open.
import { ApiError, getToken, gql, NETWORK } from "#lib/api.ts";

export interface ChatSender {
  id: string;
  username: string;
  display_name: string;
  avatar_url: string | null;
  role: string;
  badge: "host" | "moderator" | "admin" | null;
  vehicle_status: string | null;
}

/** A chat message as the server sends it (`hello.chat` and the payload of a `chat` event). */
export interface ChatMessage {
  message_id: number;
  body: string;
  client_id: string | null;
  created_at: string;
  sender: ChatSender;
}

export interface StreamEvent {
  id: number;
  kind: string;
  at: string;
  payload?: Record<string, unknown>;
  truncated?: boolean;
}

export interface Hello {
  type: "hello";
  stream_id: string;
  viewers: number;
  last_id: number;
  /** true: the events missed since `after` follow; false: start over from `chat`. */
  resumed: boolean;
  chat?: ChatMessage[];
}

export type ConnectionStatus = "connecting" | "open" | "reconnecting" | "not_found";

export interface Handlers {
  /** A batch of events in delivery order (already de-duplicated by id). */
  onEvents(events: StreamEvent[]): void;
  /** Every hello; with `resumed: false` replace whatever state was built from earlier events. */
  onHello?(hello: Hello): void;
  onStatus?(status: ConnectionStatus): void;
}

export interface SubscribeOptions {
  /** Base websocket URL (default: this page's origin with ws:/wss:). */
  baseUrl?: string;
  /** First reconnect delay (ms); doubles up to maxBackoffMs, with jitter. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Fetches the payload of an event that arrived truncated (default: GraphQL streamEventsSince). */
  fetchEvent?: (streamId: string, id: number) => Promise<StreamEvent | null>;
}

/** Events kept since the last fresh hello, replayed to a component that subscribes later. */
const REPLAY_MAX = 500;

export const EVENTS_SINCE = `query StreamEventsSince($s: UUID!, $a: BigInt!) {
  streamEventsSince(streamId: $s, afterId: $a, first: 20) { nodes { rowId kind at payload } } }`;

async function fetchEventByGraphql(streamId: string, id: number): Promise<StreamEvent | null> {
  const data = await gql<{
    streamEventsSince: { nodes: { rowId: string; kind: string; at: string; payload: Record<string, unknown> | null }[] };
  }>(EVENTS_SINCE, { s: streamId, a: String(id - 1) });
  const n = data.streamEventsSince.nodes.find((e) => Number(e.rowId) === id);
  return n ? { id, kind: n.kind, at: n.at, payload: n.payload ?? undefined } : null;
}

/** HTTP statuses of our codes (as GraphQL would report them, web/src/server/errors.ts). */
const STATUS: Record<string, number> = {
  NOAUT: 401,
  DENYD: 403,
  NOFND: 404,
  BADIN: 400,
  CONFL: 409,
  INSFD: 402,
  IDEMP: 409,
  RATEL: 429,
  MUTED: 403,
  BANND: 403,
  NLIVE: 409,
  BUSY: 503,
  UNAVL: 503,
  INTERNAL: 500,
};

/** An `error` frame as the ApiError a GraphQL error with the same code would be. */
function frameError(msg: Record<string, unknown>): ApiError {
  const code = typeof msg.code === "string" ? msg.code : "";
  return new ApiError(typeof msg.message === "string" ? msg.message : code, code, STATUS[code] ?? 400, msg.retry_after);
}

type Answer = { resolve(msg: Record<string, unknown>): void; reject(e: ApiError): void };

class Connection {
  readonly streamId: string;
  readonly handlers = new Set<Handlers>();
  status: ConnectionStatus = "connecting";
  private readonly opts: SubscribeOptions;
  private ws: WebSocket | null = null;
  private lastId: number | null = null;
  private hello: Hello | null = null;
  private replay: StreamEvent[] = [];
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  /** Batches are delivered one after another (a truncated event is fetched before its batch). */
  private queue: Promise<void> = Promise.resolve();
  /** Whether the current socket said hello (sends wait for it). */
  private ready = false;
  /** The current socket's `auth`: the token it carried and its answer. */
  private authed: { token: string; done: Promise<unknown> } | null = null;
  /** Frames sent on the current socket waiting for their `ack` / `error`, by frame id. */
  private readonly answers = new Map<string, Answer>();
  private frameSeq = 0;
  private readonly onOnline = () => {
    if (this.timer !== null) this.reconnectNow();
  };

  constructor(streamId: string, opts: SubscribeOptions) {
    this.streamId = streamId;
    this.opts = opts;
    if (typeof window !== "undefined") window.addEventListener("online", this.onOnline);
    this.open();
  }

  add(h: Handlers): void {
    this.handlers.add(h);
    h.onStatus?.(this.status);
    // A later subscriber on the same page starts from the same state as the first one.
    if (this.hello) {
      h.onHello?.(this.hello);
      if (this.replay.length) h.onEvents(this.replay.slice());
    }
  }

  private url(): string {
    const base = this.opts.baseUrl ?? `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}`;
    const q = new URLSearchParams({ stream: this.streamId });
    if (this.lastId !== null) q.set("after", String(this.lastId));
    return `${base}/broadcast?${q}`;
  }

  private setStatus(s: ConnectionStatus): void {
    this.status = s;
    for (const h of this.handlers) h.onStatus?.(s);
  }

  private open(): void {
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onmessage = (m) => {
      if (this.ws !== ws || typeof m.data !== "string") return;
      let msg: Hello | { type: "events"; events: StreamEvent[] };
      try {
        msg = JSON.parse(m.data) as typeof msg;
      } catch {
        return;
      }
      const t = (msg as { type?: unknown }).type;
      if (t === "ack" || t === "error") {
        this.onAnswer(msg as unknown as Record<string, unknown>);
        return;
      }
      if (t === "hello") this.ready = true;
      this.queue = this.queue.then(() => this.onMessage(msg)).catch(() => {});
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.dropSends();
      if (this.closed) return;
      this.ws = null;
      if (e.code === 4404) {
        this.setStatus("not_found");
        return;
      }
      this.scheduleReconnect();
    };
  }

  private onAnswer(msg: Record<string, unknown>): void {
    const key = msg.id == null ? null : String(msg.id);
    const a = key === null ? undefined : this.answers.get(key);
    if (!a || key === null) return;
    this.answers.delete(key);
    if (msg.type === "ack") a.resolve(msg);
    else a.reject(frameError(msg));
  }

  /** The socket went away: its sends' outcomes are unknown (NETWORK), its auth is gone. */
  private dropSends(): void {
    this.ready = false;
    this.authed = null;
    const pending = [...this.answers.values()];
    this.answers.clear();
    for (const a of pending) a.reject(new ApiError("the connection closed before the answer", NETWORK, 0));
  }

  /** Sends one frame with a fresh id on the current socket; resolves with its `ack`. */
  private request(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new ApiError("the connection closed before the send", NETWORK, 0));
    }
    const id = `c${++this.frameSeq}`;
    return new Promise((resolve, reject) => {
      this.answers.set(id, { resolve, reject });
      ws.send(JSON.stringify({ ...frame, id }));
    });
  }

  /** Whether sends can go on this socket now (open and past its hello). */
  get canSend(): boolean {
    return this.ready && this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  /** Authenticates the socket once per connection (again when the page's token changed), then sends. */
  async send(frame: Record<string, unknown>, token: string): Promise<Record<string, unknown>> {
    let auth = this.authed;
    if (auth?.token !== token) {
      const done = this.request({ type: "auth", token });
      auth = { token, done };
      this.authed = auth;
      done.catch(() => {
        if (this.authed?.done === done) this.authed = null;
      });
    }
    await auth.done;
    return this.request(frame);
  }

  private async onMessage(
    raw: Hello | (Omit<Hello, "type" | "resumed"> & { type: "resync" }) | { type: "events"; events: StreamEvent[] },
  ): Promise<void> {
    // A resync (the server lost events: its LISTEN connection failed, or the database restarted) is a
    // new start: the same as a hello that did not resume (the handlers re-read what they show).
    const msg = raw.type === "resync" ? ({ ...raw, type: "hello", resumed: false } as Hello) : raw;
    if (msg.type === "hello") {
      this.attempt = 0;
      if (!msg.resumed) {
        // Start over: the chat in this hello covers everything up to last_id.
        this.replay = [];
        this.hello = msg;
        this.lastId = msg.last_id;
      } else if (this.hello) {
        // Resumed: the missed events follow (last_id is the newest of them), so lastId stays.
        this.hello = { ...this.hello, viewers: msg.viewers };
      }
      this.setStatus("open");
      for (const h of this.handlers) h.onHello?.(msg);
      return;
    }
    if (msg.type !== "events" || !Array.isArray(msg.events)) return;
    const fresh = msg.events.filter((e) => this.lastId === null || e.id > this.lastId);
    if (!fresh.length) return;
    this.lastId = fresh[fresh.length - 1]?.id ?? this.lastId;
    const fetchEvent = this.opts.fetchEvent ?? fetchEventByGraphql;
    const events = await Promise.all(
      fresh.map(async (e) => (e.truncated ? ((await fetchEvent(this.streamId, e.id).catch(() => null)) ?? e) : e)),
    );
    this.replay.push(...events);
    if (this.replay.length > REPLAY_MAX) this.replay.splice(0, this.replay.length - REPLAY_MAX);
    for (const h of this.handlers) h.onEvents(events);
  }

  private scheduleReconnect(): void {
    this.setStatus("reconnecting");
    const base = this.opts.backoffMs ?? 500;
    const max = this.opts.maxBackoffMs ?? 15_000;
    const delay = Math.min(max, base * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
    this.attempt++;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.closed) this.open();
    }, delay);
  }

  private reconnectNow(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (!this.closed) this.open();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (typeof window !== "undefined") window.removeEventListener("online", this.onOnline);
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000);
    this.dropSends();
  }
}

const connections = new Map<string, Connection>();

/**
 * Receive a stream's events. Components of one page share one socket per stream; the socket closes
 * when the last of them unsubscribes. Returns the unsubscribe function.
 */
export function subscribe(streamId: string, handlers: Handlers, opts: SubscribeOptions = {}): () => void {
  const key = `${opts.baseUrl ?? ""}|${streamId.toLowerCase()}`;
  let c = connections.get(key);
  if (!c) {
    c = new Connection(streamId.toLowerCase(), opts);
    connections.set(key, c);
  }
  const conn = c;
  conn.add(handlers);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    conn.handlers.delete(handlers);
    if (conn.handlers.size === 0) {
      conn.close();
      if (connections.get(key) === conn) connections.delete(key);
    }
  };
}

/**
 * Sends a `chat` or `gift` frame on this page's open socket for the stream, signed with the page's
 * token: resolves with the `ack`, rejects with the ApiError of an `error` frame (NETWORK when the
 * socket closed before the answer). Null when there is no open socket or no token: send over GraphQL.
 */
export function sendFrame(streamId: string, frame: Record<string, unknown>, baseUrl = ""): Promise<Record<string, unknown>> | null {
  const token = getToken();
  const c = connections.get(`${baseUrl}|${streamId.toLowerCase()}`);
  if (!token || !c?.canSend) return null;
  return c.send(frame, token);
}
