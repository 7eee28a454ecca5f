// Sends over the broadcast socket (issue 14; protocol in docs/realtime-protocol.md): a viewer that
// signed in sends `chat` and `gift` frames on the socket it already watches the stream on, instead of
// one GraphQL request each. One `auth` frame per connection carries the token (verified exactly as
// GraphQL verifies a Bearer token: HS256, audience, expiry, request role); every frame after that
// carries its own client `id`, and is answered by one `ack` or `error` frame with that id, after its
// group-commit batch committed (../writes.ts). The database decides everything else, with the same
// rules as the GraphQL mutations.
//
// Limits, per socket: frames at most FRAME_MAX_BYTES (the socket closes with 1009 beyond, as ws
// enforces maxPayload), BROADCAST_SEND_RATE frames per second with bursts of twice that (beyond: `error`
// RATEL with retry_after, the frame is not processed), at most MAX_UNANSWERED sends waiting for their
// answer (beyond: `error` BUSY). A token that expires stops sends (NOAUT) until a new `auth` frame.
import type { PgSettings } from "../auth.ts";
import { AuthError, REQUEST_ROLES } from "../auth.ts";
import { describeDbError } from "../errors.ts";
import { BusyError } from "../write-batcher.ts";
import { type ChatMessage, type GiftReceipt, senderFromSettings, WriteError, type WritePath } from "../writes.ts";

export const FRAME_MAX_BYTES = 4 * 1024; // a 500-character chat body is at most 2,000 bytes of UTF-8
/** Defaults of BROADCAST_SEND_RATE and the burst (twice the rate). */
export const FRAME_RATE = 20;
export const FRAME_BURST = 2 * FRAME_RATE;
export const MAX_UNANSWERED = 64;
const ID_RE = /^[\x21-\x7e]{1,64}$/;

type Reply = (msg: Record<string, unknown>) => void;

export interface SendDeps {
  settingsFor: (authorization: string | null) => Promise<PgSettings>;
  writes: WritePath;
  /** Frames per second (BROADCAST_SEND_RATE); bursts of twice as many. */
  rate?: number;
}

function errorFrame(id: unknown, code: string, message: string, retryAfter?: number): Record<string, unknown> {
  return { type: "error", id: id ?? null, code, message, ...(retryAfter != null ? { retry_after: retryAfter } : {}) };
}

function chatAck(id: unknown, m: ChatMessage): Record<string, unknown> {
  return {
    type: "ack",
    id,
    kind: "chat",
    message: { message_id: Number(m.id), body: m.body, client_id: m.client_id, created_at: m.created_at, sender: m.sender },
  };
}

function giftAck(id: unknown, r: GiftReceipt): Record<string, unknown> {
  return {
    type: "ack",
    id,
    kind: "gift",
    receipt: {
      gift_ledger_id: Number(r.gift_ledger_id),
      stream_id: r.stream_id,
      gift_id: r.gift_id,
      quantity: r.quantity,
      coins: Number(r.coins),
      status: r.status,
      balance: r.balance == null ? null : Number(r.balance),
      replayed: r.replayed,
      created_at: r.created_at,
    },
  };
}

/** One connection's send state: feed it every client message; it answers through `reply`. */
export class SocketSends {
  private senderId: string | null = null;
  private exp = 0;
  private readonly rate: number;
  private readonly burst: number;
  private tokens: number;
  private refilled = performance.now();
  private unanswered = 0;

  private readonly deps: SendDeps;
  private readonly streamId: string;
  private readonly reply: Reply;

  constructor(deps: SendDeps, streamId: string, reply: Reply) {
    this.deps = deps;
    this.streamId = streamId;
    this.reply = reply;
    this.rate = deps.rate ?? FRAME_RATE;
    this.burst = 2 * this.rate;
    this.tokens = this.burst;
  }

  /** Whether more frames may be taken now (token bucket per socket). */
  private take(): number | null {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilled) / 1000) * this.rate);
    this.refilled = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return null;
    }
    return Math.max(0.1, Math.ceil(((1 - this.tokens) / this.rate) * 10) / 10);
  }

  onMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    const wait = this.take();
    let msg: Record<string, unknown> | null = null;
    if (!isBinary) {
      try {
        const parsed: unknown = JSON.parse(
          Buffer.isBuffer(data) ? data.toString("utf8") : Buffer.concat(data as Buffer[]).toString("utf8"),
        );
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) msg = parsed as Record<string, unknown>;
      } catch {
        msg = null;
      }
    }
    const id = msg && (typeof msg.id === "string" || typeof msg.id === "number") ? msg.id : null;
    if (wait !== null) {
      this.reply(errorFrame(id, "RATEL", `too many frames: retry after ${wait.toFixed(1)} seconds`, wait));
      return;
    }
    if (!msg) {
      this.reply(errorFrame(null, "BADIN", "frames are JSON objects (text)"));
      return;
    }
    if (id === null || !ID_RE.test(String(id))) {
      this.reply(errorFrame(null, "BADIN", "every frame needs an `id`: 1-64 printable characters"));
      return;
    }
    switch (msg.type) {
      case "auth":
        void this.auth(id, msg.token);
        return;
      case "chat":
      case "gift":
        this.send(id, msg);
        return;
      default: {
        this.reply(errorFrame(id, "BADIN", "unknown frame type (auth, chat, gift)"));
        return;
      }
    }
  }

  private async auth(id: string | number, token: unknown): Promise<void> {
    if (typeof token !== "string" || token.length === 0 || token.length > 4096) {
      this.reply(errorFrame(id, "BADIN", "auth needs a `token`"));
      return;
    }
    try {
      const settings = await this.deps.settingsFor(`Bearer ${token}`);
      const { role, senderId } = senderFromSettings(settings);
      if (!REQUEST_ROLES.has(role) || role !== "authenticated" || !senderId) throw new AuthError("token is not a signed-in user's");
      const exp = Number((JSON.parse(settings["request.jwt.claims"]) as { exp?: unknown }).exp);
      this.senderId = senderId;
      this.exp = exp;
      this.reply({ type: "ack", id, kind: "auth", user_id: senderId });
    } catch (e) {
      this.senderId = null;
      this.reply(errorFrame(id, "NOAUT", e instanceof AuthError ? e.message : "invalid token"));
    }
  }

  private send(id: string | number, msg: Record<string, unknown>): void {
    if (!this.senderId) {
      this.reply(errorFrame(id, "NOAUT", "send an `auth` frame with your token first"));
      return;
    }
    if (this.exp <= Date.now() / 1000) {
      this.senderId = null;
      this.reply(errorFrame(id, "NOAUT", "token expired: sign in again and send a new `auth` frame"));
      return;
    }
    if (this.unanswered >= MAX_UNANSWERED) {
      this.reply(errorFrame(id, "BUSY", `at most ${MAX_UNANSWERED} sends may wait for their answer`, 1));
      return;
    }
    const str = (v: unknown) => (typeof v === "string" ? v : v == null ? null : undefined);
    let work: Promise<Record<string, unknown>>;
    if (msg.type === "chat") {
      const body = str(msg.body);
      const clientId = str(msg.client_id);
      if (body === undefined || clientId === undefined) {
        this.reply(errorFrame(id, "BADIN", "chat: `body` and `client_id` are strings"));
        return;
      }
      work = this.deps.writes.chat({ senderId: this.senderId, streamId: this.streamId, body, clientId }).then((m) => chatAck(id, m));
    } else {
      const giftId = str(msg.gift_id);
      const key = str(msg.idempotency_key);
      const q = msg.quantity;
      if (giftId === undefined || key === undefined || (q !== undefined && q !== null && !Number.isInteger(q))) {
        this.reply(errorFrame(id, "BADIN", "gift: `gift_id` and `idempotency_key` are strings, `quantity` an integer"));
        return;
      }
      work = this.deps.writes
        .gift({ senderId: this.senderId, streamId: this.streamId, giftId, quantity: q, idempotencyKey: key })
        .then((r) => giftAck(id, r));
    }
    this.unanswered++;
    work
      .then(
        (ack) => this.reply(ack),
        (e: unknown) => {
          if (e instanceof WriteError) this.reply(errorFrame(id, e.code, e.message, e.retryAfter));
          else if (e instanceof BusyError) this.reply(errorFrame(id, "BUSY", e.message, 1));
          else {
            const known = describeDbError(e as { code?: string; message?: string });
            if (known) this.reply(errorFrame(id, known.code, known.message));
            else this.reply(errorFrame(id, "INTERNAL", "the write failed; retry with the same idempotency key"));
          }
        },
      )
      .finally(() => {
        this.unanswered--;
      });
  }
}
