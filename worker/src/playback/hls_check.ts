// HLS health check: the URL answers 200 with a parseable master or media playlist, and at least one
// segment of it is reachable. Used by the streams__check_hls job before any viewer is switched.
// No business rule here: the result goes to app_private.record_hls_check, which decides.
// Every request goes through core/outbound.ts: configured hosts only (variant and segment URIs on
// any other host are refused), no redirect off them, no private addresses unless the configured
// origin is one, bodies read as a stream up to a cap, one deadline per request.
import { OutboundError, type OutboundPolicy, outboundGet } from "../../../core/outbound.ts";

export interface HlsCheckResult {
  ok: boolean;
  /** Why it failed, naming the step and the URL's part ("playlist: HTTP 404"). */
  error: string | null;
  detail: {
    url: string;
    kind?: "master" | "media";
    mediaUrl?: string;
    segmentUrl?: string;
    segments?: number;
    status?: number;
    ms: number;
  };
}

export interface HlsCheckOptions {
  /** Which hosts may be fetched (the configured origin, CDN and Mux hosts). */
  policy: OutboundPolicy;
  timeoutMs?: number;
  /** Largest playlist accepted, in bytes. */
  maxPlaylistBytes?: number;
}

class CheckFailure extends Error {}

async function fetchText(
  url: string,
  step: string,
  policy: OutboundPolicy,
  timeoutMs: number,
  maxBytes: number,
): Promise<{ text: string; status: number }> {
  let res: Awaited<ReturnType<typeof outboundGet>>;
  try {
    res = await outboundGet(url, policy, { timeoutMs, maxBytes, headers: { "cache-control": "no-cache" } });
  } catch (e) {
    const msg = e instanceof OutboundError ? e.message.replace(/^body over (\d+) bytes$/, "playlist over $1 bytes") : String(e);
    throw new CheckFailure(`${step}: ${msg}`);
  }
  if (res.status !== 200) throw new CheckFailure(`${step}: HTTP ${res.status}`);
  return { text: new TextDecoder().decode(res.body), status: res.status };
}

interface Playlist {
  kind: "master" | "media";
  /** Variant playlist URIs (master) or segment URIs (media), resolved. */
  uris: string[];
}

/** Parse an M3U8 playlist: master (EXT-X-STREAM-INF) or media (EXTINF); null when it is neither. */
export function parsePlaylist(text: string, base: string): Playlist | null {
  const lines = text
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/)
    .map((l) => l.trim());
  if (lines[0] !== "#EXTM3U") return null;
  const variants: string[] = [];
  const segments: string[] = [];
  let expect: "variant" | "segment" | null = null;
  for (const line of lines.slice(1)) {
    if (!line) continue;
    if (line.startsWith("#")) {
      if (line.startsWith("#EXT-X-STREAM-INF")) expect = "variant";
      else if (line.startsWith("#EXTINF")) expect = "segment";
      continue;
    }
    let uri: string;
    try {
      uri = new URL(line, base).toString();
    } catch {
      return null;
    }
    if (expect === "variant") variants.push(uri);
    else if (expect === "segment") segments.push(uri);
    expect = null;
  }
  if (variants.length) return { kind: "master", uris: variants };
  if (segments.length || lines.some((l) => l.startsWith("#EXT-X-TARGETDURATION"))) return { kind: "media", uris: segments };
  return null;
}

async function segmentReachable(url: string, policy: OutboundPolicy, timeoutMs: number): Promise<number> {
  try {
    const res = await outboundGet(url, policy, { timeoutMs, maxBytes: 0, readBody: false, headers: { range: "bytes=0-1023" } });
    return res.status;
  } catch (e) {
    throw new CheckFailure(`segment: ${e instanceof OutboundError ? e.message : String(e)}`);
  }
}

export async function checkHls(url: string, opts: HlsCheckOptions): Promise<HlsCheckResult> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const maxBytes = opts.maxPlaylistBytes ?? 1024 * 1024;
  const t0 = Date.now();
  const detail: HlsCheckResult["detail"] = { url, ms: 0 };
  try {
    const top = await fetchText(url, "playlist", opts.policy, timeoutMs, maxBytes);
    let playlist = parsePlaylist(top.text, url);
    if (!playlist) throw new CheckFailure("playlist: not a parseable M3U8 master or media playlist");
    detail.kind = playlist.kind;
    if (playlist.kind === "master") {
      const mediaUrl = playlist.uris[0] as string;
      detail.mediaUrl = mediaUrl;
      const media = await fetchText(mediaUrl, "media playlist", opts.policy, timeoutMs, maxBytes);
      playlist = parsePlaylist(media.text, mediaUrl);
      if (playlist?.kind !== "media") throw new CheckFailure("media playlist: not a parseable M3U8 media playlist");
    }
    detail.segments = playlist.uris.length;
    if (!playlist.uris.length) throw new CheckFailure("media playlist: no segments yet");
    // The newest segment first (a live window drops the oldest), then the oldest.
    const candidates = [...new Set([playlist.uris.at(-1) as string, playlist.uris[0] as string])];
    let lastStatus = 0;
    for (const seg of candidates) {
      lastStatus = await segmentReachable(seg, opts.policy, timeoutMs);
      if (lastStatus === 200 || lastStatus === 206) {
        detail.segmentUrl = seg;
        detail.status = lastStatus;
        detail.ms = Date.now() - t0;
        return { ok: true, error: null, detail };
      }
    }
    throw new CheckFailure(`segment: HTTP ${lastStatus}`);
  } catch (e) {
    detail.ms = Date.now() - t0;
    if (e instanceof CheckFailure) return { ok: false, error: e.message, detail };
    return { ok: false, error: `check failed: ${(e as Error).message}`, detail };
  }
}
