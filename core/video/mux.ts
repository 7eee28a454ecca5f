// Mux through its SDK (@mux/mux-node): the settings derived from the config, one client per process,
// and the live stream a LiveKit egress pushes RTMP into (made once per stream and reused).
import Mux from "@mux/mux-node";
import type { Config } from "../config.ts";

export interface MuxSettings {
  tokenId: string;
  tokenSecret: string;
  /** Mux API (https://api.mux.com). */
  apiUrl: string;
  /** RTMP ingest: <this>/<stream key>. */
  rtmpUrl: string;
}

type MuxConfig = Pick<Config, "PLAYBACK_MUX_TOKEN_ID" | "PLAYBACK_MUX_TOKEN_SECRET" | "PLAYBACK_MUX_API_URL" | "PLAYBACK_MUX_RTMP_URL">;

export function muxSettings(config: MuxConfig): MuxSettings | null {
  if (!config.PLAYBACK_MUX_TOKEN_ID || !config.PLAYBACK_MUX_TOKEN_SECRET) return null;
  return {
    tokenId: config.PLAYBACK_MUX_TOKEN_ID,
    tokenSecret: config.PLAYBACK_MUX_TOKEN_SECRET,
    apiUrl: config.PLAYBACK_MUX_API_URL.replace(/\/$/, ""),
    rtmpUrl: config.PLAYBACK_MUX_RTMP_URL.replace(/\/$/, ""),
  };
}

export function muxClient(s: MuxSettings, timeoutMs = 10_000): Mux {
  // Every credential explicit: the SDK would otherwise read MUX_* from the environment.
  return new Mux({
    tokenId: s.tokenId,
    tokenSecret: s.tokenSecret,
    baseURL: s.apiUrl,
    webhookSecret: null,
    jwtSigningKey: null,
    jwtPrivateKey: null,
    authorizationToken: null,
    maxRetries: 1,
    timeout: timeoutMs,
  });
}

export interface MuxLiveStream {
  id: string;
  streamKey: string;
  playbackId: string;
}

const isNotFound = (e: unknown) => (e as { status?: number })?.status === 404;

/** The Mux live stream with id `existingId` (when it still exists and has a public playback id), else a new one. */
export async function ensureLiveStream(mux: Mux, existingId: string | null): Promise<MuxLiveStream & { created: boolean }> {
  if (existingId) {
    try {
      const ls = await mux.video.liveStreams.retrieve(existingId);
      const pid = ls.playback_ids?.find((p) => p.policy === "public")?.id;
      if (ls.stream_key && pid) return { id: ls.id, streamKey: ls.stream_key, playbackId: pid, created: false };
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  const ls = await mux.video.liveStreams.create({
    playback_policies: ["public"],
    new_asset_settings: { playback_policies: ["public"] },
    latency_mode: "low",
    reconnect_window: 60,
  });
  const pid = ls.playback_ids?.find((p) => p.policy === "public")?.id;
  if (!ls.stream_key || !pid) throw new Error(`Mux live stream ${ls.id} has no stream key or public playback id`);
  return { id: ls.id, streamKey: ls.stream_key, playbackId: pid, created: true };
}
