// The hot write path (issue 14): gifts and chat from every request of this process go through two
// group-commit batchers (write-batcher.ts), each batch one call of app_private.send_gifts /
// send_chat_messages (db/src) as a prepared statement, in one transaction: one durable commit per gift
// batch, chat as before without waiting for the WAL flush (the function sets synchronous_commit off).
// The GraphQL mutations sendGift / sendChatMessage (graphql/writes.ts) and the broadcast socket's
// `gift` / `chat` frames (features/broadcast.ts) both submit here with the sender id from the JWT the
// server verified; the database decides everything else, with the same rules as app_public.send_gift
// and send_chat_message.
//
// The batch pool logs in as `authenticator` and runs as `trollcity_server` (startup option `role`),
// the only role allowed to execute the batch functions (db/setup.sql, db/src/shared/server_role.access.sql).
import pg from "pg";
import type { Logger } from "pino";
import { Counter, Histogram, type Registry } from "prom-client";
import { BusyError, WriteBatcher } from "./write-batcher.ts";

export interface GiftRequest {
  senderId: string | null;
  streamId: unknown;
  giftId: unknown;
  /** undefined: the default (1); null: refused (BADIN), as send_gift does. */
  quantity?: unknown;
  idempotencyKey?: string | null;
}

/** app_public.gift_receipt, with its column names (bigints as strings, created_at ISO). */
export interface GiftReceipt {
  gift_ledger_id: string;
  stream_id: string;
  gift_id: string;
  quantity: number;
  coins: string;
  status: string;
  balance: string | null;
  replayed: boolean;
  created_at: string;
}

export interface ChatRequest {
  senderId: string | null;
  streamId: unknown;
  body: unknown;
  clientId?: string | null;
}

/** app_public.chat_message, with its column names. */
export interface ChatMessage {
  id: string;
  stream_id: string;
  sender_id: string;
  body: string;
  client_id: string | null;
  sender: Record<string, unknown>;
  created_at: string;
}

/** A request refused by the database's rules: our code (docs/error_codes.md), message, retry_after. */
export class WriteError extends Error {
  readonly code: string;
  readonly detail?: string;
  readonly retryAfter?: number;
  constructor(code: string, message: string, retryAfter?: number | null) {
    super(message);
    this.code = code;
    if (retryAfter != null) {
      this.retryAfter = retryAfter;
      this.detail = JSON.stringify({ retry_after: retryAfter });
    }
  }
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: WriteError };

interface OutcomeRow {
  error_code: string | null;
  error_message: string | null;
  retry_after: string | null;
}

export interface WritePathOptions {
  /** `authenticator` connection string (the batch pool adds the role). */
  connectionString: string;
  logger: Logger;
  registry?: Registry;
  /** Most requests per call. */
  maxBatch?: number;
  /** Requests waiting per path before BUSY. */
  maxQueue?: number;
  /** Batches running at once per path (lanes, each holding a connection). */
  maxInFlight?: number;
  lingerMs?: number;
}

export interface WritePath {
  gift(request: GiftRequest): Promise<GiftReceipt>;
  chat(request: ChatRequest): Promise<ChatMessage>;
  close(): Promise<void>;
}

const SEND_GIFTS = "select * from app_private.send_gifts($1::jsonb)";
const SEND_CHAT = "select * from app_private.send_chat_messages($1::jsonb)";

/** Test hook (NODE_ENV=test only): SIGKILL this process after a batch committed, before answering. */
const CRASH_AFTER_COMMIT = process.env.NODE_ENV === "test" ? process.env.TROLLCITY_TEST_CRASH_AFTER_COMMIT : undefined;

function outcome<T>(row: OutcomeRow, value: () => T): Outcome<T> {
  if (row.error_code) {
    return {
      ok: false,
      error: new WriteError(row.error_code, row.error_message ?? row.error_code, row.retry_after == null ? null : Number(row.retry_after)),
    };
  }
  return { ok: true, value: value() };
}

function unwrap<T>(o: Outcome<T>): T {
  if (!o.ok) throw o.error;
  return o.value;
}

export function createWritePath(opts: WritePathOptions): WritePath {
  const maxInFlight = opts.maxInFlight ?? 2;
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    options: "-c role=trollcity_server",
    // One connection per lane and path: a batch never waits for a connection.
    max: maxInFlight * 2,
    connectionTimeoutMillis: 10_000,
  });
  pool.on("error", (e) => opts.logger.warn({ err: e }, "write batch pool: idle client error"));
  let closing = false;

  const reg = opts.registry;
  const sizes = reg
    ? ((reg.getSingleMetric("trollcity_write_batch_size") as Histogram | undefined) ??
      new Histogram({
        name: "trollcity_write_batch_size",
        help: "Requests per group-commit batch",
        labelNames: ["path"],
        buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
        registers: [reg],
      }))
    : null;
  const failed = reg
    ? ((reg.getSingleMetric("trollcity_write_batch_failed_total") as Counter | undefined) ??
      new Counter({
        name: "trollcity_write_batch_failed_total",
        help: "Group-commit batches that failed as a whole",
        labelNames: ["path"],
        registers: [reg],
      }))
    : null;
  const durations = reg
    ? ((reg.getSingleMetric("trollcity_write_batch_seconds") as Histogram | undefined) ??
      new Histogram({
        name: "trollcity_write_batch_seconds",
        help: "Time of one group-commit batch's database call, commit included",
        labelNames: ["path"],
        buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
        registers: [reg],
      }))
    : null;
  const onBatch = (path: string) => (size: number, ms: number, fail: boolean) => {
    sizes?.observe({ path }, size);
    durations?.observe({ path }, ms / 1000);
    if (fail) failed?.inc({ path });
  };

  // Lanes: each path has `maxInFlight` batchers with one batch running each; a sender always uses the
  // same lane, so one sender's requests are decided in the order they arrived (a socket's chat keeps
  // its order) and concurrent batches never wait for each other's locks (wallets, buckets and
  // slow-mode rows are per sender).
  const lanes = <B>(make: (lane: number) => B): B[] => Array.from({ length: maxInFlight }, (_, i) => make(i));
  const laneOf = <B>(all: B[], senderId: string | null): B => {
    const h = senderId ? Number.parseInt(senderId.replace(/-/g, "").slice(-8), 16) || 0 : 0;
    return all[h % all.length] as B;
  };

  const afterCommit = (path: string) => {
    if (CRASH_AFTER_COMMIT === path) process.kill(process.pid, "SIGKILL");
  };

  const gifts = lanes(
    (lane) =>
      new WriteBatcher<GiftRequest, Outcome<GiftReceipt>>({
        name: `gifts/${lane}`,
        maxBatch: opts.maxBatch,
        maxQueue: opts.maxQueue,
        maxInFlight: 1,
        lingerMs: opts.lingerMs,
        onBatch: onBatch("gifts"),
        async execute(requests) {
          const json = JSON.stringify(
            requests.map((r) => ({
              sender_id: r.senderId,
              stream_id: r.streamId,
              gift_id: r.giftId,
              ...(r.quantity === undefined ? {} : { quantity: r.quantity }),
              idempotency_key: r.idempotencyKey ?? null,
            })),
          );
          const { rows } = await pool.query<GiftReceipt & OutcomeRow>({ name: "tc_send_gifts", text: SEND_GIFTS, values: [json] });
          afterCommit("gifts");
          return rows.map((row) =>
            outcome(row, () => ({
              gift_ledger_id: row.gift_ledger_id,
              stream_id: row.stream_id,
              gift_id: row.gift_id,
              quantity: row.quantity,
              coins: row.coins,
              status: row.status,
              balance: row.balance,
              replayed: row.replayed,
              created_at: row.created_at,
            })),
          );
        },
      }),
  );

  type ChatRow = Omit<ChatMessage, "id"> & { message_id: string } & OutcomeRow;
  const chats = lanes(
    (lane) =>
      new WriteBatcher<ChatRequest, Outcome<ChatMessage>>({
        name: `chat/${lane}`,
        maxBatch: opts.maxBatch,
        maxQueue: opts.maxQueue,
        maxInFlight: 1,
        lingerMs: opts.lingerMs,
        onBatch: onBatch("chat"),
        async execute(requests) {
          const json = JSON.stringify(
            requests.map((r) => ({ sender_id: r.senderId, stream_id: r.streamId, body: r.body, client_id: r.clientId ?? null })),
          );
          const { rows } = await pool.query<ChatRow>({ name: "tc_send_chat", text: SEND_CHAT, values: [json] });
          afterCommit("chat");
          return rows.map((row) =>
            outcome(row, () => ({
              id: row.message_id,
              stream_id: row.stream_id,
              sender_id: row.sender_id,
              body: row.body,
              client_id: row.client_id,
              sender: row.sender,
              created_at: row.created_at,
            })),
          );
        },
      }),
  );

  return {
    async gift(request) {
      if (closing) throw new BusyError("gifts: shutting down");
      return unwrap(await laneOf(gifts, request.senderId).submit(request));
    },
    async chat(request) {
      if (closing) throw new BusyError("chat: shutting down");
      return unwrap(await laneOf(chats, request.senderId).submit(request));
    },
    async close() {
      closing = true;
      await Promise.all([...gifts, ...chats].map((b) => b.close()));
      await pool.end();
    },
  };
}

/** The sender a request's verified settings name: null when signed out (the database says NOAUT). */
export function senderFromSettings(settings: { role?: string; "request.jwt.claims"?: string } | null | undefined): {
  role: string;
  senderId: string | null;
} {
  const role = settings?.role ?? "anon";
  let senderId: string | null = null;
  try {
    const claims = JSON.parse(settings?.["request.jwt.claims"] ?? "{}") as { sub?: unknown };
    if (typeof claims.sub === "string" && claims.sub) senderId = claims.sub;
  } catch {
    senderId = null;
  }
  return { role, senderId };
}
