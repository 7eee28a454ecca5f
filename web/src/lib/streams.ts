// Browser-side streams: who is live now (the home page), one stream's header, and the broadcaster's
// own stream in the studio (go live, details, end). Validation of titles, categories and thumbnails
// is the database's (db/src/streams/set_stream_details.sql); the limits here are hints for inputs.
import { gql } from "#lib/api.ts";

export interface LiveStream {
  rowId: string;
  title: string;
  category: string | null;
  thumbnailUrl: string | null;
  startedAt: string;
  viewerCount: number | null;
  userByBroadcasterId: { username: string; displayName: string; avatarUrl: string | null } | null;
}

/** The input's limit: the streams_title_check bound, which decides. */
export const TITLE_MAX = 140;

/** Category ids (app_public.stream_categories()) in words. */
export const CATEGORY_TEXT: Record<string, string> = {
  just_chatting: "Just chatting",
  music: "Music",
  gaming: "Gaming",
  irl: "IRL",
  talk_show: "Talk show",
  creative: "Creative",
  sports: "Sports",
};
export const categoryText = (c: string | null): string => (c ? (CATEGORY_TEXT[c] ?? c) : "");

const STREAM_FIELDS = "rowId title category thumbnailUrl startedAt viewerCount userByBroadcasterId { username displayName avatarUrl }";

const LIVE = `query LiveStreams { liveStreams(first: 50) { nodes { ${STREAM_FIELDS} } } }`;

export async function fetchLiveStreams(): Promise<LiveStream[]> {
  const data = await gql<{ liveStreams: { nodes: LiveStream[] } }>(LIVE);
  return data.liveStreams.nodes;
}

export interface StreamHeader extends LiveStream {
  status: string;
  broadcasterId: string;
}

const HEADER = `query StreamHeader($id: UUID!) { streamByRowId(rowId: $id) { ${STREAM_FIELDS} status broadcasterId } }`;

export async function fetchStreamHeader(id: string): Promise<StreamHeader | null> {
  const d = await gql<{ streamByRowId: StreamHeader | null }>(HEADER, { id });
  return d.streamByRowId;
}

export interface StudioUser {
  rowId: string;
  username: string;
  displayName: string;
  role: string;
}

export interface Studio {
  me: StudioUser | null;
  /** The caller's live stream, if any. */
  live: StreamHeader | null;
  categories: string[];
}

const STUDIO = `query Studio { currentUser { rowId username displayName role }
  streamCategories
  myLiveStream { ${STREAM_FIELDS} status broadcasterId } }`;

/** Who is in the studio, their live stream (if any) and the categories to choose from. */
export async function fetchStudio(): Promise<Studio> {
  const d = await gql<{ currentUser: StudioUser | null; streamCategories: string[] | null; myLiveStream: StreamHeader | null }>(STUDIO);
  return {
    me: d.currentUser,
    live: d.currentUser ? d.myLiveStream : null,
    categories: d.streamCategories ?? Object.keys(CATEGORY_TEXT),
  };
}

export const isBroadcasterRole = (role: string | undefined): boolean => role === "broadcaster" || role === "admin";

export interface Details {
  title: string;
  category: string;
  thumbnailUrl: string;
}

const GO_LIVE = `mutation GoLive($t: String!) { goLive(input: {title: $t}) { result { rowId } } }`;
const DETAILS = `mutation StreamDetails($s: UUID!, $t: String!, $c: String, $u: String) {
  setStreamDetails(input: {streamId: $s, title: $t, category: $c, thumbnailUrl: $u}) { result { rowId } } }`;
const END = `mutation EndStream($s: UUID!) { endStream(input: {streamId: $s}) { result { rowId status } } }`;

/** Sets a live stream's title, category and thumbnail (empty clears). */
export async function saveDetails(streamId: string, d: Details): Promise<void> {
  await gql(DETAILS, { s: streamId, t: d.title, c: d.category || null, u: d.thumbnailUrl.trim() || null });
}

/**
 * Goes live with the details. goLive takes the title only (the video branch's room creation hangs
 * off it), so the category and thumbnail follow in a second call; when that one fails the stream is
 * live with its title and the error says why the rest was refused (the form keeps the values).
 */
export async function goLive(d: Details): Promise<{ streamId: string; detailsError: unknown }> {
  const r = await gql<{ goLive: { result: { rowId: string } } }>(GO_LIVE, { t: d.title });
  const streamId = r.goLive.result.rowId;
  if (!d.category && !d.thumbnailUrl.trim()) return { streamId, detailsError: null };
  try {
    await saveDetails(streamId, d);
    return { streamId, detailsError: null };
  } catch (e) {
    return { streamId, detailsError: e };
  }
}

export async function endStream(streamId: string): Promise<void> {
  await gql(END, { s: streamId });
}
