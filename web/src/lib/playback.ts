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
