// Browser-side playback helpers: what the server says about a stream's playback, the path a player
// should take, failure reports and the LiveKit token. Business rules (which URL, when to switch) live
// in SQL; the player only follows them and reports what it sees.
import { gql } from "#lib/api.ts";

export interface Playback {
  provider: "livekit" | "mux" | "cdn" | "origin";
  mode: "stage" | "hls";
  hlsUrl: string | null;
  hlsReady: boolean;
  latencyMode: "low" | "standard";
  pending: string | null;
  switchedAt: string | null;
  viewerCount: number | null;
}

export type PlayerPath = "hls" | "stage";

const PLAYBACK = `query Playback($id: UUID!) { streamByRowId(rowId: $id) {
  status playback { provider mode hlsUrl hlsReady latencyMode pending switchedAt viewerCount } } }`;

export async function fetchPlayback(streamId: string): Promise<{ status: string; playback: Playback } | null> {
  const data = await gql<{ streamByRowId: { status: string; playback: Playback } | null }>(PLAYBACK, { id: streamId });
  return data.streamByRowId;
}

/**
 * The path to play: the server's mode, except that an HLS URL this player saw fail is not used again
 * (until the server re-verifies it and switches anew), and a broken stage may fall back to an HLS URL
 * the server has verified.
 */
export function choosePath(p: Playback, broken: { hlsUrl: string | null; stage: boolean }): PlayerPath {
  const hlsUsable = p.hlsUrl !== null && p.hlsUrl !== broken.hlsUrl;
  if (p.mode === "hls" && hlsUsable) return "hls";
  if (broken.stage && hlsUsable && p.hlsReady) return "hls";
  return "stage";
}

const REPORT = `mutation Report($id: UUID!, $path: String!, $url: String, $reason: String) {
  reportPlaybackFailure(input: {streamId: $id, path: $path, url: $url, reason: $reason}) { result } }`;

/** Tell the server a path failed (counted per stream; many HLS failures make it re-check the URL). */
export async function reportFailure(streamId: string, path: PlayerPath, url: string | null, reason: string): Promise<void> {
  try {
    await gql(REPORT, { id: streamId, path, url, reason: reason.slice(0, 500) });
  } catch (e) {
    console.warn("could not report a playback failure", e);
  }
}

const TOKEN = `mutation StageToken($id: UUID!) { livekitToken(input: {streamId: $id}) { token url } }`;

/** A LiveKit token for the caller's grant (throws when signed out, not configured, or not offered). */
export async function fetchStageToken(streamId: string): Promise<{ token: string; url: string }> {
  const data = await gql<{ livekitToken: { token: string; url: string } | null }>(TOKEN, { id: streamId });
  if (!data?.livekitToken) throw new Error("no stage token");
  return data.livekitToken;
}

/** hls.js error details that mean "this URL is gone" even before hls.js gives up. */
export function isHard404(details: string, code: number | undefined): boolean {
  return code === 404 && (details === "manifestLoadError" || details === "levelLoadError");
}

/**
 * A batch of stream events applied to the playback state: `stream_state` with `type: "playback"`
 * (the server switched paths) and `viewer_count`. Players follow these events from the broadcast
 * socket instead of polling: one query when the page opens (and after a reconnect that could not
 * resume), then only events.
 */
export function applyPlaybackEvents(p: Playback, events: { kind: string; payload?: Record<string, unknown> }[]): Playback {
  let next = p;
  for (const e of events) {
    const q = e.payload;
    if (!q) continue;
    if (e.kind === "viewer_count" && typeof q.viewers === "number") next = { ...next, viewerCount: q.viewers };
    else if (e.kind === "stream_state" && q.type === "playback" && (q.mode === "hls" || q.mode === "stage")) {
      next = {
        ...next,
        mode: q.mode,
        provider: (typeof q.provider === "string" ? q.provider : next.provider) as Playback["provider"],
        latencyMode: q.latency_mode === "low" || q.latency_mode === "standard" ? q.latency_mode : next.latencyMode,
        hlsUrl: typeof q.hls_url === "string" ? q.hls_url : q.mode === "hls" ? next.hlsUrl : next.hlsUrl,
        // The switch to HLS happened after a passing check of this URL.
        hlsReady: q.mode === "hls" ? true : next.hlsReady,
        pending: null,
        switchedAt: typeof q.switched_at === "string" ? q.switched_at : next.switchedAt,
      };
    }
  }
  return next;
}

/** Whether a batch says the stream ended (a `seat` event with action `ended` is the stage closing). */
export const streamEnded = (events: { kind: string; payload?: Record<string, unknown> }[]): boolean =>
  events.some((e) => e.kind === "stream_state" && e.payload?.status === "ended");

export type ViralRequest = "hls" | "stage" | "auto";

const VIRAL = `mutation Viral($s: UUID!, $m: String!) { requestViralMode(input: {streamId: $s, mode: $m}) {
  result { provider mode hlsUrl hlsReady latencyMode pending switchedAt viewerCount } } }`;

/** The broadcaster's manual switch: hls (after a health check), stage, or auto (the thresholds decide). */
export async function requestViralMode(streamId: string, mode: ViralRequest): Promise<Playback> {
  const d = await gql<{ requestViralMode: { result: Playback } }>(VIRAL, { s: streamId, m: mode });
  return d.requestViralMode.result;
}

export interface Health {
  hlsProvider: string | null;
  mode: string | null;
  pending: string | null;
  pendingReason: string | null;
  attempts: number | null;
  checkDueAt: string | null;
  lastCheckAt: string | null;
  lastCheckOk: boolean | null;
  lastCheckUrl: string | null;
  lastError: string | null;
  alerting: boolean | null;
  failureReports5M: number | null;
}

const HEALTH = `query Health($s: UUID!) { allPlaybackHealths(condition: {streamId: $s}, first: 1) { nodes {
  hlsProvider mode pending pendingReason attempts checkDueAt lastCheckAt lastCheckOk lastCheckUrl lastError alerting failureReports5M } } }`;

/** The HLS checks of the caller's stream (its broadcaster and admins see them; null for others). */
export async function fetchHealth(streamId: string): Promise<Health | null> {
  const d = await gql<{ allPlaybackHealths: { nodes: Health[] } }>(HEALTH, { s: streamId });
  return d.allPlaybackHealths.nodes[0] ?? null;
}

/** The last viewer count in a batch of events, or null when none came. */
export function playbackViewerCount(events: { kind: string; payload?: Record<string, unknown> }[]): number | null {
  let n: number | null = null;
  for (const e of events) if (e.kind === "viewer_count" && typeof e.payload?.viewers === "number") n = e.payload.viewers;
  return n;
}
