// Browser-side chat: who is reading (may they moderate, the stream's slow mode), the message list as
// `chat` and `chat_deleted` events change it (docs/realtime-protocol.md), and the send and delete
// mutations (sends go on the socket when it is open). Messages arrive over the broadcast socket (#lib/realtime.ts) carrying their sender's
// name, avatar, badge and vehicle status, so rendering one costs no query. The rules themselves
// (length, rate, slow mode, mutes, bans) are the database's: this module only shows their outcome.
import { ApiError, gql } from "#lib/api.ts";
import { type ChatMessage, type StreamEvent, sendFrame } from "#lib/realtime.ts";

/** Messages kept on screen. */
export const KEEP = 200;
/** The input's limit: the server's default chat_max_length (app_private.settings), which decides. */
export const MAX_LENGTH = 500;
export const BADGES: Record<string, string> = { host: "Host", moderator: "Mod", admin: "Admin" };

export interface Me {
  rowId: string;
  displayName: string;
  role: string;
}

/** One of our messages on its way: shown as "sending" until its echo (same client id) arrives. */
export interface Pending {
  clientId: string;
  body: string;
}

export interface Reader {
  me: Me | null;
  /** The stream's slow mode (seconds between messages, 0 = off). */
  slowMode: number;
  /** May delete anyone's messages: the broadcaster, moderators and admins. */
  canModerate: boolean;
}

const READER = `query ChatViewer($id: UUID!) { currentUser { rowId displayName role }
  streamByRowId(rowId: $id) { broadcasterId chatSlowModeSeconds } }`;

/** Who is reading this stream's chat, in one query. */
export async function fetchReader(streamId: string): Promise<Reader> {
  const d = await gql<{ currentUser: Me | null; streamByRowId: { broadcasterId: string; chatSlowModeSeconds: number } | null }>(READER, {
    id: streamId,
  });
  const me = d.currentUser;
  return {
    me,
    slowMode: d.streamByRowId?.chatSlowModeSeconds ?? 0,
    canModerate: me !== null && (["moderator", "admin"].includes(me.role.toLowerCase()) || d.streamByRowId?.broadcasterId === me.rowId),
  };
}

/** What the chat shows; every function below returns a new one. */
export interface ChatView {
  messages: ChatMessage[];
  pending: Pending[];
  viewers: number | null;
  slowMode: number;
}

/** Messages added once each, oldest dropped past KEEP; our own echo replaces its pending line. */
export function addMessages(view: ChatView, incoming: ChatMessage[], myId: string | undefined): ChatView {
  if (!incoming.length) return view;
  const have = new Set(view.messages.map((m) => m.message_id));
  const fresh = incoming.filter((m) => !have.has(m.message_id));
  if (!fresh.length) return view;
  const echoed = new Set(fresh.filter((m) => m.client_id && m.sender.id === myId).map((m) => m.client_id));
  const pending = echoed.size ? view.pending.filter((p) => !echoed.has(p.clientId)) : view.pending;
  const next = [...view.messages, ...fresh];
  return { ...view, pending, messages: next.length > KEEP ? next.slice(-KEEP) : next };
}

/**
 * A batch of stream events applied in order: `chat` adds, `chat_deleted` removes one message (or
 * all of a user's), `viewer_count` and `stream_state` update the header. `slowModeOff` says a
 * `stream_state` turned slow mode off (a slow-mode wait ends with it).
 */
export function applyEvents(view: ChatView, events: StreamEvent[], myId: string | undefined): { view: ChatView; slowModeOff: boolean } {
  let v = view;
  let slowModeOff = false;
  let chat: ChatMessage[] = [];
  for (const e of events) {
    const p = e.payload;
    if (!p) continue;
    if (e.kind === "chat") chat.push(p as unknown as ChatMessage);
    else if (e.kind === "chat_deleted") {
      v = addMessages(v, chat, myId);
      chat = [];
      if (typeof p.message_id === "number") v = { ...v, messages: v.messages.filter((m) => m.message_id !== p.message_id) };
      if (typeof p.user_id === "string") v = { ...v, messages: v.messages.filter((m) => m.sender.id !== p.user_id) };
    } else if (e.kind === "viewer_count" && typeof p.viewers === "number") v = { ...v, viewers: p.viewers };
    else if (e.kind === "stream_state" && typeof p.chat_slow_mode_seconds === "number") {
      v = { ...v, slowMode: p.chat_slow_mode_seconds };
      if (p.chat_slow_mode_seconds === 0) slowModeOff = true;
    }
  }
  return { view: addMessages(v, chat, myId), slowModeOff };
}

const SEND = `mutation SendChat($s: UUID!, $b: String!, $c: String) {
  sendChatMessage(input: {streamId: $s, body: $b, clientId: $c}) { result { rowId } } }`;

/**
 * Sends a chat message, as a `chat` frame on the stream's open broadcast socket (over GraphQL when
 * there is none); the message itself arrives as a `chat` event carrying `clientId`.
 */
export async function sendChatMessage(streamId: string, body: string, clientId: string): Promise<number> {
  const viaSocket = sendFrame(streamId, { type: "chat", body, client_id: clientId });
  if (viaSocket) {
    const ack = await viaSocket;
    return Number((ack.message as { message_id?: unknown } | undefined)?.message_id);
  }
  const data = await gql<{ sendChatMessage: { result: { rowId: string } } }>(SEND, { s: streamId, b: body, c: clientId });
  return Number(data.sendChatMessage.result.rowId);
}

const DELETE = `mutation DeleteChat($m: BigInt!) { deleteChatMessage(input: {messageId: $m}) { result } }`;

export async function deleteChatMessage(messageId: number): Promise<boolean> {
  const data = await gql<{ deleteChatMessage: { result: boolean } }>(DELETE, { m: String(messageId) });
  return data.deleteChatMessage.result;
}

/** Runs tasks one at a time, in order (sends, so the server accepts them in the order typed). */
export function serialQueue(): (task: () => Promise<void>) => void {
  let queue: Promise<void> = Promise.resolve();
  return (task) => {
    queue = queue.then(task).catch(() => {});
  };
}

// Moderation (the studio's panel): mutes and bans with their lists, slow mode and the moderation log.
// Who may do what is can_moderate_stream in SQL; these only call the mutations and read the lists the
// table policies show the caller.

/** Durations offered for a mute or a ban (seconds; null: until lifted). */
export const DURATIONS: { seconds: number | null; label: string }[] = [
  { seconds: 60, label: "1 minute" },
  { seconds: 600, label: "10 minutes" },
  { seconds: 3600, label: "1 hour" },
  { seconds: 86_400, label: "1 day" },
  { seconds: null, label: "Until lifted" },
];

export interface Restriction {
  userId: string;
  username: string;
  displayName: string;
  until: string | null;
  reason: string | null;
}

export interface LogEntry {
  id: string;
  action: string;
  actor: string;
  target: string | null;
  reason: string | null;
  details: Record<string, unknown>;
  createdAt: string;
}

export interface Moderation {
  mutes: Restriction[];
  bans: Restriction[];
  log: LogEntry[];
  slowMode: number;
}

const USER = "userByUserId { username displayName }";
const MODERATION = `query Moderation($s: UUID!) { streamByRowId(rowId: $s) { chatSlowModeSeconds
  streamMutesByStreamId(first: 50) { nodes { userId mutedUntil reason ${USER} } }
  streamBansByStreamId(first: 50) { nodes { userId bannedUntil reason ${USER} } }
  moderationActionsByStreamId(first: 25, orderBy: PRIMARY_KEY_DESC) { nodes { rowId action reason details createdAt
    userByActorId { username } userByTargetUserId { username } } } } }`;

type RestrictionNode = {
  userId: string;
  mutedUntil?: string | null;
  bannedUntil?: string | null;
  reason: string | null;
  userByUserId: { username: string; displayName: string } | null;
};

const restriction = (n: RestrictionNode): Restriction => ({
  userId: n.userId,
  username: n.userByUserId?.username ?? "",
  displayName: n.userByUserId?.displayName ?? "",
  until: n.mutedUntil ?? n.bannedUntil ?? null,
  reason: n.reason,
});

/** Still in force at `now` (a lapsed row stays in the table until the next mute/ban replaces it). */
export const inForce = (r: Restriction, now = Date.now()): boolean => r.until === null || Date.parse(r.until) > now;

export async function fetchModeration(streamId: string): Promise<Moderation> {
  const d = await gql<{
    streamByRowId: {
      chatSlowModeSeconds: number;
      streamMutesByStreamId: { nodes: RestrictionNode[] };
      streamBansByStreamId: { nodes: RestrictionNode[] };
      moderationActionsByStreamId: {
        nodes: {
          rowId: string;
          action: string;
          reason: string | null;
          details: Record<string, unknown> | null;
          createdAt: string;
          userByActorId: { username: string } | null;
          userByTargetUserId: { username: string } | null;
        }[];
      };
    } | null;
  }>(MODERATION, { s: streamId });
  const s = d.streamByRowId;
  if (!s) return { mutes: [], bans: [], log: [], slowMode: 0 };
  return {
    slowMode: s.chatSlowModeSeconds,
    mutes: s.streamMutesByStreamId.nodes.map(restriction).filter((r) => inForce(r)),
    bans: s.streamBansByStreamId.nodes.map(restriction).filter((r) => inForce(r)),
    log: s.moderationActionsByStreamId.nodes.map((n) => ({
      id: n.rowId,
      action: n.action,
      actor: n.userByActorId?.username ?? "system",
      target: n.userByTargetUserId?.username ?? null,
      reason: n.reason,
      details: n.details ?? {},
      createdAt: n.createdAt,
    })),
  };
}

export const ACTION_TEXT: Record<string, string> = {
  mute: "muted",
  unmute: "unmuted",
  ban: "banned",
  unban: "unbanned",
  delete_message: "deleted a message of",
  slow_mode: "set slow mode",
};

async function userId(username: string): Promise<string> {
  const u = await gql<{ userByUsername: { rowId: string } | null }>(`query User($n: String!) { userByUsername(username: $n) { rowId } }`, {
    n: username.trim(),
  });
  if (!u.userByUsername) throw new ApiError(`user ${username.trim()} not found`, "NOFND", 404);
  return u.userByUsername.rowId;
}

export async function muteUser(streamId: string, username: string, seconds: number | null, reason: string): Promise<void> {
  await gql(
    `mutation Mute($s: UUID!, $u: UUID!, $d: Int, $r: String) { muteUser(input: {streamId: $s, userId: $u, durationSeconds: $d, reason: $r}) { clientMutationId } }`,
    { s: streamId, u: await userId(username), d: seconds, r: reason.trim() || null },
  );
}

export async function banUser(streamId: string, username: string, seconds: number | null, reason: string): Promise<void> {
  await gql(
    `mutation Ban($s: UUID!, $u: UUID!, $d: Int, $r: String) { banUser(input: {streamId: $s, userId: $u, durationSeconds: $d, reason: $r}) { clientMutationId } }`,
    { s: streamId, u: await userId(username), d: seconds, r: reason.trim() || null },
  );
}

export async function unmuteUser(streamId: string, userIdValue: string): Promise<void> {
  await gql(`mutation Unmute($s: UUID!, $u: UUID!) { unmuteUser(input: {streamId: $s, userId: $u}) { result } }`, {
    s: streamId,
    u: userIdValue,
  });
}

export async function unbanUser(streamId: string, userIdValue: string): Promise<void> {
  await gql(`mutation Unban($s: UUID!, $u: UUID!) { unbanUser(input: {streamId: $s, userId: $u}) { result } }`, {
    s: streamId,
    u: userIdValue,
  });
}

export async function setSlowMode(streamId: string, seconds: number): Promise<number> {
  const d = await gql<{ setSlowMode: { result: { chatSlowModeSeconds: number } } }>(
    `mutation Slow($s: UUID!, $n: Int!) { setSlowMode(input: {streamId: $s, seconds: $n}) { result { chatSlowModeSeconds } } }`,
    { s: streamId, n: seconds },
  );
  return d.setSlowMode.result.chatSlowModeSeconds;
}
