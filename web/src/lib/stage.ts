// Browser-side stage helpers: the seats of a stream (GraphQL, then `seat` events from the broadcast
// socket), the seat mutations and the publisher (livekit-client) that a seated
// guest mounts. Who may publish is decided by the database: the publisher asks `livekitToken` for the
// caller's grant and never sends a permission flag.
import type { LocalTrack, Room } from "livekit-client";
import { ApiError, gql } from "#lib/api.ts";
import { errorText } from "#lib/errors.ts";
import type { StreamEvent } from "#lib/realtime.ts";

export type SeatStatus = "invited" | "active" | "left" | "revoked" | "expired" | "ended";

export interface Seat {
  id: string;
  userId: string;
  slot: number;
  status: SeatStatus;
  expiresAt: string | null;
  endReason: string | null;
  username: string;
  displayName: string;
}

export interface Me {
  rowId: string;
  username: string;
  role: string;
}

export interface StageInfo {
  me: Me | null;
  stream: { broadcasterId: string; seatCap: number; status: string } | null;
  seats: Seat[];
}

/** The input's limit: the server's default stage_max_seats (app_private.settings), which decides. */
export const MAX_SEATS = 12;

export const isOpen = (s: Seat) => s.status === "invited" || s.status === "active";

interface SeatNode {
  rowId: string;
  userId: string;
  slot: number;
  status: SeatStatus;
  expiresAt: string | null;
  endReason: string | null;
  userByUserId: { username: string; displayName: string } | null;
}

const SEAT_FIELDS = "rowId userId slot status expiresAt endReason userByUserId { username displayName }";

const seatFromNode = (n: SeatNode): Seat => ({
  id: n.rowId,
  userId: n.userId,
  slot: n.slot,
  status: n.status,
  expiresAt: n.expiresAt,
  endReason: n.endReason,
  username: n.userByUserId?.username ?? "",
  displayName: n.userByUserId?.displayName ?? "",
});

// No status filter in the API: a stream has few seats (cap ≤ 12 at once); up to 100 of those the
// caller may see (the API caps every page at 100).
const STAGE = `query Stage($id: UUID!) { currentUser { rowId username role }
  streamByRowId(rowId: $id) { broadcasterId seatCap status
    streamSeatsByStreamId(first: 100) { nodes { ${SEAT_FIELDS} } } } }`;

export async function fetchStage(streamId: string): Promise<StageInfo> {
  const d = await gql<{
    currentUser: Me | null;
    streamByRowId: { broadcasterId: string; seatCap: number; status: string; streamSeatsByStreamId: { nodes: SeatNode[] } } | null;
  }>(STAGE, { id: streamId });
  const s = d.streamByRowId;
  return {
    me: d.currentUser,
    stream: s ? { broadcasterId: s.broadcasterId, seatCap: s.seatCap, status: s.status } : null,
    seats: s ? s.streamSeatsByStreamId.nodes.map(seatFromNode) : [],
  };
}

/** The seat carried by a `seat` event (payload: action, seat, user), or null when malformed. */
export function seatFromEvent(payload: Record<string, unknown> | undefined): Seat | null {
  const seat = payload?.seat as Record<string, unknown> | undefined;
  const user = payload?.user as Record<string, unknown> | undefined;
  if (!seat || typeof seat.id !== "string" || typeof seat.user_id !== "string" || typeof seat.status !== "string") return null;
  return {
    id: seat.id,
    userId: seat.user_id,
    slot: Number(seat.slot),
    status: seat.status as SeatStatus,
    expiresAt: typeof seat.expires_at === "string" ? seat.expires_at : null,
    endReason: typeof seat.end_reason === "string" ? seat.end_reason : null,
    username: typeof user?.username === "string" ? user.username : "",
    displayName: typeof user?.display_name === "string" ? user.display_name : "",
  };
}

// A seat only moves forward (invited → active → ended), so of two views of one seat the later wins:
// a GraphQL answer that raced a newer event cannot bring a revoked seat back.
const rank = (s: Seat) => (s.status === "invited" ? 0 : s.status === "active" ? 1 : 2);

/** Merge seats into a list by id, keeping the furthest-along version of each. */
export function mergeSeats(current: Seat[], incoming: Seat[]): Seat[] {
  const byId = new Map(current.map((s) => [s.id, s]));
  for (const s of incoming) {
    const have = byId.get(s.id);
    if (!have || rank(s) >= rank(have)) byId.set(s.id, s);
  }
  return [...byId.values()];
}

/** Why a seat ended, in words. */
export function endedText(s: Seat): string {
  const reason = s.endReason && !["revoked", "expired", "left", "stream ended"].includes(s.endReason) ? `: ${s.endReason}` : "";
  switch (s.status) {
    case "revoked":
      return `Your seat was revoked${reason}`;
    case "expired":
      return "Your seat expired";
    case "ended":
      return "The stream ended";
    case "left":
      return "You left the stage";
    default:
      return "You are no longer on stage";
  }
}

const INVITE = `mutation Invite($s: UUID!, $u: UUID!, $d: Int) { inviteToSeat(input: {streamId: $s, userId: $u, durationSeconds: $d}) { result { ${SEAT_FIELDS} } } }`;
const USER = `query User($n: String!) { userByUsername(username: $n) { rowId } }`;

export async function inviteByUsername(streamId: string, username: string, durationSeconds: number | null = null): Promise<Seat> {
  const u = await gql<{ userByUsername: { rowId: string } | null }>(USER, { n: username });
  if (!u.userByUsername) throw new ApiError(`user ${username} not found`, "NOFND", 404);
  const d = await gql<{ inviteToSeat: { result: SeatNode } }>(INVITE, { s: streamId, u: u.userByUsername.rowId, d: durationSeconds });
  return seatFromNode(d.inviteToSeat.result);
}

// One document per mutation, not one built from the name: trusted documents are found in the sources.
const SEAT_MUTATIONS = {
  acceptSeat: `mutation AcceptSeat($id: UUID!) { acceptSeat(input: {seatId: $id}) { result { ${SEAT_FIELDS} } } }`,
  leaveSeat: `mutation LeaveSeat($id: UUID!) { leaveSeat(input: {seatId: $id}) { result { ${SEAT_FIELDS} } } }`,
};

async function seatMutation(name: "acceptSeat" | "leaveSeat", seatId: string): Promise<Seat> {
  const d = await gql<Record<string, { result: SeatNode }>>(SEAT_MUTATIONS[name], { id: seatId });
  const r = d[name]?.result;
  if (!r) throw new ApiError(`seat ${seatId} not found`, "NOFND", 404);
  return seatFromNode(r);
}

export const acceptSeat = (seatId: string) => seatMutation("acceptSeat", seatId);
export const leaveSeat = (seatId: string) => seatMutation("leaveSeat", seatId);

export async function revokeSeat(seatId: string, reason: string): Promise<Seat> {
  const d = await gql<{ revokeSeat: { result: SeatNode } }>(
    `mutation Revoke($id: UUID!, $r: String) { revokeSeat(input: {seatId: $id, reason: $r}) { result { ${SEAT_FIELDS} } } }`,
    { id: seatId, r: reason },
  );
  return seatFromNode(d.revokeSeat.result);
}

export async function setSeatCap(streamId: string, cap: number): Promise<number> {
  const d = await gql<{ setSeatCap: { result: { seatCap: number } } }>(
    `mutation Cap($s: UUID!, $c: Int!) { setSeatCap(input: {streamId: $s, seatCap: $c}) { result { seatCap } } }`,
    { s: streamId, c: cap },
  );
  return d.setSeatCap.result.seatCap;
}

export interface PublishToken {
  token: string;
  url: string;
  canPublish: boolean;
  expiresAt: string;
}

/** The caller's LiveKit token: the grant comes from the database (no flag is sent). */
export async function fetchPublishToken(streamId: string): Promise<PublishToken> {
  const d = await gql<{ livekitToken: PublishToken | null }>(
    `mutation PublishToken($s: UUID!) { livekitToken(input: {streamId: $s}) { token url canPublish expiresAt } }`,
    { s: streamId },
  );
  if (!d.livekitToken) throw new ApiError("no stage token", "CONFG", 503);
  return d.livekitToken;
}

/** The camera and microphone to use (device ids from listDevices; absent: the browser's default). */
export interface Devices {
  audio?: string;
  video?: string;
}

export interface DeviceChoice {
  id: string;
  label: string;
}

/**
 * Cameras and microphones, after asking for permission with a preview stream (labels are empty
 * before that). The caller owns the returned stream and stops its tracks.
 */
export async function openPreview(
  devices: Devices,
): Promise<{ stream: MediaStream; cameras: DeviceChoice[]; microphones: DeviceChoice[] }> {
  const stream = await navigator.mediaDevices.getUserMedia({
    video: devices.video ? { deviceId: { exact: devices.video } } : true,
    audio: devices.audio ? { deviceId: { exact: devices.audio } } : true,
  });
  const all = await navigator.mediaDevices.enumerateDevices();
  const pick = (kind: MediaDeviceKind, word: string) =>
    all.filter((d) => d.kind === kind && d.deviceId).map((d, i) => ({ id: d.deviceId, label: d.label || `${word} ${i + 1}` }));
  return { stream, cameras: pick("videoinput", "Camera"), microphones: pick("audioinput", "Microphone") };
}

/** Seat durations the stage manager may give (seconds; null: until left or revoked). */
export const SEAT_DURATIONS: { seconds: number | null; label: string }[] = [
  { seconds: null, label: "Until revoked" },
  { seconds: 60, label: "1 minute" },
  { seconds: 300, label: "5 minutes" },
  { seconds: 900, label: "15 minutes" },
  { seconds: 3600, label: "1 hour" },
];

/** "m:ss" left until `at` (an ISO time), or null when there is no end; "0:00" once passed. */
export function countdown(at: string | null, now: number): string | null {
  if (!at) return null;
  const left = Math.max(0, Math.ceil((Date.parse(at) - now) / 1000));
  return `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
}

export type PublisherState = "starting" | "connecting" | "live" | "retrying" | "stopped";

export interface PublisherHandlers {
  onState(state: PublisherState, detail: string | null): void;
  /** The camera/microphone tracks to preview (empty when stopped). */
  onTracks(tracks: MediaStreamTrack[]): void;
  /** The server stopped letting us publish (token without canPublish, removed, permission revoked). */
  onRevoked(why: string): void;
}

/**
 * Camera and microphone on a stream's stage. `start` opens the devices and connects, retrying with
 * backoff (a fresh token each time, so a revoked seat stops the retries); `stop` tears everything
 * down synchronously: room disconnected, every device track stopped.
 */
export class StagePublisher {
  private readonly streamId: string;
  private readonly h: PublisherHandlers;
  private readonly devices: Devices;
  private room: Room | null = null;
  private tracks: LocalTrack[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private attempt = 0;

  constructor(streamId: string, handlers: PublisherHandlers, devices: Devices = {}) {
    this.streamId = streamId;
    this.h = handlers;
    this.devices = devices;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Throws (ApiError or a device error) when the first token or the devices cannot be had. */
  async start(): Promise<void> {
    this.h.onState("starting", null);
    const token = await fetchPublishToken(this.streamId);
    if (this.stopped) return;
    if (!token.canPublish) throw new ApiError("the server does not let you publish on this stage", "DENYD", 403);
    const { createLocalTracks } = await import("livekit-client");
    const { audio, video } = this.devices;
    const tracks = await createLocalTracks({
      audio: audio ? { deviceId: audio } : true,
      video: { ...(video ? { deviceId: video } : {}), resolution: { width: 640, height: 360 } },
    });
    if (this.stopped) {
      for (const t of tracks) t.stop();
      return;
    }
    this.tracks = tracks;
    this.h.onTracks(tracks.map((t) => t.mediaStreamTrack));
    await this.connect(token);
  }

  private async connect(token: PublishToken): Promise<void> {
    if (this.stopped) return;
    this.h.onState(this.attempt === 0 ? "connecting" : "retrying", null);
    const { Room, RoomEvent, DisconnectReason } = await import("livekit-client");
    if (this.stopped) return;
    const room = new Room();
    this.room = room;
    room.on(RoomEvent.ParticipantPermissionsChanged, () => {
      if (this.room === room && room.localParticipant.permissions?.canPublish === false)
        this.revoked("the server took your publish permission");
    });
    let joined = false;
    room.on(RoomEvent.Disconnected, (reason) => {
      // Before the join completes, a failure surfaces as connect()'s rejection below.
      if (this.room !== room || this.stopped || !joined) return;
      if (reason === DisconnectReason.PARTICIPANT_REMOVED) this.revoked("you were removed from the stage");
      else this.retry("the stage connection was lost");
    });
    try {
      await room.connect(token.url, token.token);
      if (this.stopped || this.room !== room) return;
      joined = true;
      for (const t of this.tracks) await room.localParticipant.publishTrack(t);
      this.attempt = 0;
      this.h.onState("live", null);
    } catch (e) {
      if (this.stopped || this.room !== room) return;
      this.retry(`could not connect to the stage: ${(e as Error).message}`);
    }
  }

  private retry(why: string): void {
    const room = this.room;
    this.room = null;
    if (room) void room.disconnect();
    const delay = Math.min(15_000, 1000 * 2 ** this.attempt);
    this.attempt++;
    this.h.onState("retrying", `${why}; retrying in ${Math.round(delay / 1000)} s`);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.reconnect();
    }, delay);
  }

  private async reconnect(): Promise<void> {
    if (this.stopped) return;
    let token: PublishToken;
    try {
      token = await fetchPublishToken(this.streamId);
    } catch (e) {
      if (!this.stopped) this.retry(errorText(e, "stage"));
      return;
    }
    if (this.stopped) return;
    if (!token.canPublish) return this.revoked("your seat is no longer active");
    await this.connect(token);
  }

  private revoked(why: string): void {
    if (this.stopped) return;
    this.stop();
    this.h.onRevoked(why);
  }

  /** Unmount now: disconnect, stop the camera and microphone, cancel retries. Idempotent. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const room = this.room;
    this.room = null;
    if (room) void room.disconnect(true);
    for (const t of this.tracks) t.stop();
    this.tracks = [];
    this.h.onTracks([]);
    this.h.onState("stopped", null);
  }
}

/** A viewer's request to join the stage (seen by the stage managers and the viewer). */
export interface SeatRequest {
  userId: string;
  username: string;
  displayName: string;
}

const REQUESTS = `query SeatRequests($s: UUID!) { streamByRowId(rowId: $s) {
  streamSeatRequestsByStreamId(first: 50) { nodes { userId userByUserId { username displayName } } } } }`;

export async function fetchSeatRequests(streamId: string): Promise<SeatRequest[]> {
  const d = await gql<{
    streamByRowId: {
      streamSeatRequestsByStreamId: { nodes: { userId: string; userByUserId: { username: string; displayName: string } | null }[] };
    } | null;
  }>(REQUESTS, { s: streamId });
  return (d.streamByRowId?.streamSeatRequestsByStreamId.nodes ?? []).map((n) => ({
    userId: n.userId,
    username: n.userByUserId?.username ?? "",
    displayName: n.userByUserId?.displayName ?? "",
  }));
}

/**
 * Requests after a batch of `seat` events: `requested` adds, `request_cancelled` removes, and any
 * seat of that user (an invitation answers the request) removes too.
 */
export function applyRequestEvents(current: SeatRequest[], events: StreamEvent[]): SeatRequest[] {
  let next = current;
  for (const e of events) {
    if (e.kind !== "seat" || !e.payload) continue;
    const user = e.payload.user as { id?: string; username?: string; display_name?: string } | undefined;
    if (!user?.id) continue;
    const id = user.id;
    next = next.filter((r) => r.userId !== id);
    if (e.payload.action === "requested")
      next = [...next, { userId: id, username: user.username ?? "", displayName: user.display_name ?? "" }];
  }
  return next;
}

export async function requestSeat(streamId: string): Promise<void> {
  await gql(`mutation RequestSeat($s: UUID!) { requestSeat(input: {streamId: $s}) { clientMutationId } }`, { s: streamId });
}

export async function cancelSeatRequest(streamId: string): Promise<void> {
  await gql(`mutation CancelSeatRequest($s: UUID!) { cancelSeatRequest(input: {streamId: $s}) { result } }`, { s: streamId });
}
