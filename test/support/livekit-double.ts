// A LiveKit test double: a local HTTP server speaking RoomService's Twirp JSON protocol
// (`POST /twirp/livekit.RoomService/<Method>`, camelCase protobuf JSON, errors `{"code","msg"}` with
// content-type exactly application/json). It verifies the bearer JWT with the configured key/secret
// and the roomAdmin (or roomList) grant, keeps room state, records every call, can be told to fail or
// stall, and plays participants: `join` admits a token like LiveKit would (a grant without canPublish
// publishes) and sends signed webhooks (participant_joined, track_published) to the server.
// CreateRoom/DeleteRoom need the roomCreate grant and keep the room's options (emptyTimeout,
// departureTimeout, maxParticipants). The Egress service (`POST /twirp/livekit.Egress/<Method>`:
// StartRoomCompositeEgress, StopEgress, ListEgress) needs the roomRecord grant and runs LiveKit's egress
// state machine: EGRESS_STARTING, EGRESS_ACTIVE after `egressActivateMs` (unless told to hold or to
// fail: EGRESS_FAILED with an error), EGRESS_ENDING on StopEgress, then EGRESS_COMPLETE.
// LiveKit itself is exercised through this double in tests, and through docker-compose elsewhere.
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { jwtVerify } from "jose";
import { AccessToken } from "livekit-server-sdk";

export interface Permission {
  canSubscribe: boolean;
  canPublish: boolean;
  canPublishData: boolean;
  canUpdateMetadata: boolean;
  hidden: boolean;
}

export interface Participant {
  sid: string;
  identity: string;
  permission: Permission;
  tracks: { sid: string; type: string; name: string }[];
}

export interface Call {
  method: string;
  body: Record<string, unknown>;
  status: number;
  /** performance.timeOrigin-based wall clock in ms (Date.now() precision is enough). */
  at: number;
}

export interface FailureSpec {
  /** Only these methods fail (default: all). */
  methods?: string[];
  /** How many calls fail (default: until `heal()`). */
  times?: number;
  status?: number;
  code?: string;
}

export type EgressStatus = "EGRESS_STARTING" | "EGRESS_ACTIVE" | "EGRESS_ENDING" | "EGRESS_COMPLETE" | "EGRESS_FAILED" | "EGRESS_ABORTED";

export interface Egress {
  egressId: string;
  roomName: string;
  status: EgressStatus;
  /** RTMP URLs (stream outputs) or the live playlist names (segment outputs) asked for. */
  streamUrls: string[];
  segments: Record<string, unknown>[];
  layout: string;
  error: string;
  startedAt: number;
  endedAt: number;
}

export interface RoomOptions {
  emptyTimeout?: number;
  departureTimeout?: number;
  maxParticipants?: number;
}

export interface LivekitDouble {
  /** http://127.0.0.1:<port> (use as LIVEKIT_URL; clients get ws://). */
  url: string;
  apiKey: string;
  apiSecret: string;
  rooms: Map<string, Map<string, Participant>>;
  /** Options each room was created with (CreateRoom). */
  roomOptions: Map<string, RoomOptions>;
  egresses: Map<string, Egress>;
  /** What a new egress does: become active (after egressActivateMs), stay starting, or fail. */
  egressMode: "ok" | "hold" | "fail";
  egressActivateMs: number;
  /** Make an egress fail now (as LiveKit reports a crashed egress). */
  failEgress(egressId: string, error?: string): void;
  calls: Call[];
  /** Make calls fail (503 `unavailable` unless told otherwise). */
  fail(spec?: FailureSpec): void;
  /** Delay every answer by `ms` (0 to stop). */
  stall(ms: number): void;
  heal(): void;
  /** Where signed webhooks go (the server's /webhooks/livekit). */
  webhookUrl: string | null;
  /** Admit a participant with a LiveKit access token (verified like LiveKit does) and send participant_joined. */
  join(token: string): Promise<Participant>;
  /** Publish a track as LiveKit would (refused without canPublish) and send track_published. */
  publish(room: string, identity: string): Promise<boolean>;
  /** Resolve with the first recorded call matching `pred` (already recorded or future). */
  waitForCall(pred: (c: Call) => boolean, timeoutMs?: number): Promise<Call>;
  /** Send a webhook event signed with `secret` (default: the double's own). */
  sendWebhook(event: Record<string, unknown>, opts?: { secret?: string }): Promise<Response>;
  close(): Promise<void>;
}

const PARTICIPANT_METHODS = new Set(["ListParticipants", "GetParticipant", "RemoveParticipant", "UpdateParticipant", "MutePublishedTrack"]);

const sid = (prefix: string) => `${prefix}_${randomBytes(6).toString("hex")}`;

function participantJson(p: Participant) {
  return {
    sid: p.sid,
    identity: p.identity,
    state: "ACTIVE",
    permission: p.permission,
    isPublisher: p.tracks.length > 0,
    tracks: p.tracks.map((t) => ({ sid: t.sid, type: t.type, name: t.name })),
  };
}

export async function startLivekitDouble(opts: { apiKey?: string; apiSecret?: string } = {}): Promise<LivekitDouble> {
  const apiKey = opts.apiKey ?? "test-livekit-key";
  const apiSecret = opts.apiSecret ?? "test-livekit-secret-0123456789abcdef0123456789";
  const key = new TextEncoder().encode(apiSecret);
  const rooms = new Map<string, Map<string, Participant>>();
  const roomOptions = new Map<string, RoomOptions>();
  const egresses = new Map<string, Egress>();
  const nanos = (ms: number) => (ms ? String(BigInt(ms) * 1_000_000n) : "0");
  const egressJson = (e: Egress) => ({
    egressId: e.egressId,
    roomId: `RM_${e.roomName.slice(0, 8)}`,
    roomName: e.roomName,
    status: e.status,
    startedAt: nanos(e.startedAt),
    endedAt: nanos(e.endedAt),
    error: e.error,
    roomComposite: { roomName: e.roomName, layout: e.layout },
    streamResults: e.streamUrls.map((url) => ({ url, status: e.status === "EGRESS_ACTIVE" ? "ACTIVE" : "STARTING" })),
    segmentResults: e.segments.map((x) => ({ playlistName: x.playlistName ?? "", livePlaylistName: x.livePlaylistName ?? "" })),
  });
  const calls: Call[] = [];
  const waiters: { pred: (c: Call) => boolean; resolve: (c: Call) => void }[] = [];
  let failure: (FailureSpec & { left: number }) | null = null;
  let stallMs = 0;

  function record(call: Call) {
    calls.push(call);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i];
      if (w?.pred(call)) {
        waiters.splice(i, 1);
        w.resolve(call);
      }
    }
  }

  function error(res: ServerResponse, status: number, code: string, msg: string) {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify({ code, msg }));
  }

  function room(name: string) {
    let r = rooms.get(name);
    if (!r) {
      r = new Map();
      rooms.set(name, r);
    }
    return r;
  }

  async function readBody(req: IncomingMessage) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    return (text ? JSON.parse(text) : {}) as Record<string, unknown>;
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const m = /^\/twirp\/livekit\.(RoomService|Egress)\/(\w+)$/.exec(req.url ?? "");
    if (req.method !== "POST" || !m?.[2]) return error(res, 404, "bad_route", `no handler for ${req.method} ${req.url}`);
    const service = m[1];
    const method = m[2];
    let body: Record<string, unknown>;
    try {
      body = await readBody(req);
    } catch {
      return error(res, 400, "malformed", "body is not JSON");
    }
    const reply = (status: number, out: unknown, code = "ok", msg = "") => {
      record({ method, body, status, at: Date.now() });
      if (status === 200) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(out));
      } else error(res, status, code, msg);
    };
    if (stallMs) await new Promise((r) => setTimeout(r, stallMs));
    // Authentication: Bearer JWT signed with our secret, issued for our key, with the right grant.
    const auth = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (!auth) return reply(401, null, "unauthenticated", "authorization header missing");
    let video: Record<string, unknown>;
    try {
      const { payload } = await jwtVerify(auth, key, { algorithms: ["HS256"], issuer: apiKey });
      video = (payload.video ?? {}) as Record<string, unknown>;
    } catch (e) {
      return reply(401, null, "unauthenticated", `invalid token: ${(e as Error).message}`);
    }
    if (PARTICIPANT_METHODS.has(method) && (video.roomAdmin !== true || video.room !== body.room))
      return reply(403, null, "permission_denied", `needs roomAdmin for room ${String(body.room)}`);
    if (method === "ListRooms" && video.roomList !== true) return reply(403, null, "permission_denied", "needs roomList");
    if ((method === "CreateRoom" || method === "DeleteRoom") && video.roomCreate !== true)
      return reply(403, null, "permission_denied", "needs roomCreate");
    if (service === "Egress" && video.roomRecord !== true) return reply(403, null, "permission_denied", "needs roomRecord");
    if (failure && (!failure.methods || failure.methods.includes(method)) && failure.left !== 0) {
      failure.left--;
      return reply(failure.status ?? 503, null, failure.code ?? "unavailable", "told to fail");
    }
    const r = typeof body.room === "string" ? rooms.get(body.room) : undefined;
    const p = r && typeof body.identity === "string" ? r.get(body.identity) : undefined;
    if (service === "Egress") {
      switch (method) {
        case "StartRoomCompositeEgress": {
          const roomName = String(body.roomName ?? "");
          if (!rooms.has(roomName)) return reply(404, null, "not_found", "requested room does not exist");
          const streams = (body.streamOutputs ?? []) as { protocol?: string; urls?: string[] }[];
          const segments = (body.segmentOutputs ?? []) as Record<string, unknown>[];
          if (!streams.length && !segments.length && !body.fileOutputs) return reply(400, null, "invalid_argument", "no output");
          const e: Egress = {
            egressId: sid("EG"),
            roomName,
            status: "EGRESS_STARTING",
            streamUrls: streams.flatMap((x) => x.urls ?? []),
            segments,
            layout: String(body.layout ?? ""),
            error: "",
            startedAt: 0,
            endedAt: 0,
          };
          egresses.set(e.egressId, e);
          const mode = double.egressMode;
          if (mode !== "hold")
            setTimeout(() => {
              if (e.status !== "EGRESS_STARTING") return;
              if (mode === "fail") {
                e.status = "EGRESS_FAILED";
                e.error = "told to fail: pipeline could not start";
                e.endedAt = Date.now();
              } else {
                e.status = "EGRESS_ACTIVE";
                e.startedAt = Date.now();
              }
            }, double.egressActivateMs).unref();
          return reply(200, egressJson(e));
        }
        case "StopEgress": {
          const e = egresses.get(String(body.egressId ?? ""));
          if (!e) return reply(404, null, "not_found", "egress not found");
          if (e.status !== "EGRESS_STARTING" && e.status !== "EGRESS_ACTIVE")
            return reply(412, null, "failed_precondition", `egress with status ${e.status} cannot be stopped`);
          e.status = "EGRESS_ENDING";
          setTimeout(() => {
            e.status = "EGRESS_COMPLETE";
            e.endedAt = Date.now();
          }, 50).unref();
          return reply(200, egressJson(e));
        }
        case "ListEgress": {
          const items = [...egresses.values()].filter(
            (e) =>
              (!body.roomName || e.roomName === body.roomName) &&
              (!body.egressId || e.egressId === body.egressId) &&
              (!body.active || e.status === "EGRESS_STARTING" || e.status === "EGRESS_ACTIVE"),
          );
          return reply(200, { items: items.map(egressJson) });
        }
        default:
          return reply(404, null, "bad_route", `method ${method} not implemented by the double`);
      }
    }
    switch (method) {
      case "ListRooms":
        return reply(200, { rooms: [...rooms].map(([name, ps]) => ({ sid: `RM_${name.slice(0, 8)}`, name, numParticipants: ps.size })) });
      case "CreateRoom": {
        const name = String(body.name ?? "");
        if (!name) return reply(400, null, "invalid_argument", "room name is required");
        room(name);
        const o: RoomOptions = {
          emptyTimeout: typeof body.emptyTimeout === "number" ? body.emptyTimeout : undefined,
          departureTimeout: typeof body.departureTimeout === "number" ? body.departureTimeout : undefined,
          maxParticipants: typeof body.maxParticipants === "number" ? body.maxParticipants : undefined,
        };
        roomOptions.set(name, o);
        return reply(200, { sid: `RM_${name.slice(0, 8)}`, name, ...o });
      }
      case "DeleteRoom": {
        const name = String(body.room ?? "");
        if (!rooms.has(name)) return reply(404, null, "not_found", "requested room does not exist");
        rooms.delete(name);
        roomOptions.delete(name);
        // LiveKit ends the room's egresses with it.
        for (const e of egresses.values())
          if (e.roomName === name && (e.status === "EGRESS_STARTING" || e.status === "EGRESS_ACTIVE")) {
            e.status = "EGRESS_COMPLETE";
            e.endedAt = Date.now();
          }
        return reply(200, {});
      }
      case "ListParticipants":
        if (!r) return reply(404, null, "not_found", "requested room does not exist");
        return reply(200, { participants: [...r.values()].map(participantJson) });
      case "GetParticipant":
        if (!p) return reply(404, null, "not_found", "participant does not exist");
        return reply(200, participantJson(p));
      case "RemoveParticipant":
        if (!p || !r) return reply(404, null, "not_found", "participant does not exist");
        r.delete(p.identity);
        return reply(200, {});
      case "UpdateParticipant": {
        if (!p) return reply(404, null, "not_found", "participant does not exist");
        const perm = body.permission as Partial<Permission> | undefined;
        if (perm) {
          // Permissions are replaced atomically (protobuf: a missing bool is false).
          p.permission = {
            canSubscribe: perm.canSubscribe === true,
            canPublish: perm.canPublish === true,
            canPublishData: perm.canPublishData === true,
            canUpdateMetadata: perm.canUpdateMetadata === true,
            hidden: perm.hidden === true,
          };
          if (!p.permission.canPublish) p.tracks = []; // LiveKit unpublishes on revoke
        }
        return reply(200, participantJson(p));
      }
      case "MutePublishedTrack":
        if (!p) return reply(404, null, "not_found", "participant does not exist");
        return reply(200, { track: p.tracks.find((t) => t.sid === body.trackSid) ?? null });
      default:
        return reply(404, null, "bad_route", `method ${method} not implemented by the double`);
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) error(res, 500, "internal", String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const addr = server.address();
  const url = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;

  const double: LivekitDouble = {
    url,
    apiKey,
    apiSecret,
    rooms,
    roomOptions,
    egresses,
    egressMode: "ok",
    egressActivateMs: 300,
    failEgress(egressId, err = "told to fail") {
      const e = egresses.get(egressId);
      if (!e) return;
      e.status = "EGRESS_FAILED";
      e.error = err;
      e.endedAt = Date.now();
    },
    calls,
    webhookUrl: null,
    fail(spec = {}) {
      failure = { ...spec, left: spec.times ?? -1 };
    },
    stall(ms) {
      stallMs = ms;
    },
    heal() {
      failure = null;
      stallMs = 0;
    },
    async join(token) {
      const { payload } = await jwtVerify(token, key, { algorithms: ["HS256"], issuer: apiKey });
      const video = (payload.video ?? {}) as Record<string, unknown>;
      const identity = String(payload.sub ?? "");
      if (video.roomJoin !== true || typeof video.room !== "string" || !identity) throw new Error("token does not admit to a room");
      // LiveKit's rule: a grant that leaves canPublish/canSubscribe/canPublishData out allows them.
      const p: Participant = {
        sid: sid("PA"),
        identity,
        permission: {
          canSubscribe: video.canSubscribe !== false,
          canPublish: video.canPublish !== false,
          canPublishData: video.canPublishData !== false,
          canUpdateMetadata: video.canUpdateOwnMetadata === true,
          hidden: video.hidden === true,
        },
        tracks: [],
      };
      room(video.room).set(identity, p);
      if (double.webhookUrl)
        await double.sendWebhook({
          event: "participant_joined",
          room: { sid: `RM_${video.room.slice(0, 8)}`, name: video.room },
          participant: participantJson(p),
        });
      return p;
    },
    async publish(roomName, identity) {
      const p = rooms.get(roomName)?.get(identity);
      if (!p?.permission.canPublish) return false;
      const track = { sid: sid("TR"), type: "VIDEO", name: "camera" };
      p.tracks.push(track);
      if (double.webhookUrl)
        await double.sendWebhook({
          event: "track_published",
          room: { sid: `RM_${roomName.slice(0, 8)}`, name: roomName },
          participant: participantJson(p),
          track,
        });
      return true;
    },
    waitForCall(pred, timeoutMs = 5000) {
      const found = calls.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise<Call>((resolve, reject) => {
        const w = {
          pred,
          resolve: (c: Call) => {
            clearTimeout(timer);
            resolve(c);
          },
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no matching RoomService call within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
    async sendWebhook(event, o = {}) {
      if (!double.webhookUrl) throw new Error("webhookUrl is not set");
      const body = JSON.stringify({ id: sid("EV"), createdAt: String(Math.floor(Date.now() / 1000)), ...event });
      const at = new AccessToken(apiKey, o.secret ?? apiSecret);
      at.sha256 = createHash("sha256").update(body).digest("base64");
      return await fetch(double.webhookUrl, {
        method: "POST",
        headers: { "content-type": "application/webhook+json", authorization: await at.toJwt() },
        body,
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return double;
}

/** Database fixtures for stage tests: users with API tokens, SQL run as a user (like a request). */
export interface StageFixtures {
  db: import("pg").Pool;
  user(username: string, role?: "viewer" | "broadcaster" | "moderator" | "admin"): Promise<{ id: string; token: string }>;
  /** Run one statement as `userId` (role authenticated + claims), in its own transaction. */
  as<T extends Record<string, unknown>>(userId: string, text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export async function stageFixtures(dbUrl: string): Promise<StageFixtures> {
  const { default: pg } = await import("pg");
  const db = new pg.Pool({ connectionString: dbUrl, max: 4 });
  return {
    db,
    async user(username, role = "viewer") {
      const { rows } = await db.query<{ id: string; token: string }>(
        "select id, app_private.sign_jwt(id) as token from (select tests.create_user($1, $2::app_public.app_role) as id) u",
        [username, role],
      );
      const row = rows[0];
      if (!row) throw new Error(`could not create ${username}`);
      return row;
    },
    async as(userId, text, params = []) {
      const c = await db.connect();
      try {
        await c.query("begin");
        await c.query("select tests.act_as($1)", [userId]);
        const { rows } = await c.query(text, params);
        await c.query("commit");
        return rows as never;
      } catch (e) {
        await c.query("rollback").catch(() => {});
        throw e;
      } finally {
        c.release();
      }
    },
    async close() {
      await db.end();
    },
  };
}
