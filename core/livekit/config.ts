// LiveKit settings, derived from the validated process config (core/config.ts) by each process entry
// and passed down (the server's context, the worker's task list).
// The server URL may be given as ws(s):// (what browsers dial) or http(s):// (what RoomService speaks);
// both forms are derived here so callers never rewrite URLs themselves.
import type { Config } from "../config.ts";

export interface LivekitSettings {
  /** ws(s):// URL handed to clients with their token. */
  clientUrl: string;
  /** http(s):// URL of the RoomService (Twirp) API. */
  apiUrl: string;
  apiKey: string;
  apiSecret: string;
}

export const NOT_CONFIGURED = "LiveKit is not configured: set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET (see .env.example)";

export function livekitSettings(config: Pick<Config, "LIVEKIT_URL" | "LIVEKIT_API_KEY" | "LIVEKIT_API_SECRET">): LivekitSettings | null {
  const { LIVEKIT_URL: url, LIVEKIT_API_KEY: apiKey, LIVEKIT_API_SECRET: apiSecret } = config;
  if (!url || !apiKey || !apiSecret) return null;
  const u = new URL(url);
  const secure = u.protocol === "wss:" || u.protocol === "https:";
  const base = `${u.host}${u.pathname.replace(/\/$/, "")}`;
  return { clientUrl: `${secure ? "wss" : "ws"}://${base}`, apiUrl: `${secure ? "https" : "http"}://${base}`, apiKey, apiSecret };
}
