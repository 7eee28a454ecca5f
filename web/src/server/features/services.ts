// External services, checked once at start with the configured keys, so a wrong key is reported by
// name now rather than by the first viewer: LiveKit (RoomService ListRooms), Mux (list one live
// stream), the HLS origin and the CDN (a HEAD request). Each result is logged (an error naming the
// variables to fix) and shown in /readyz under `services` (the configured ones only; a detail: it does
// not make the process unready, the database-backed features keep working).
import { roomService } from "../../../../core/livekit/rooms.ts";
import { muxClient, muxSettings } from "../../../../core/video/mux.ts";
import type { FeatureFactory, ServerContext } from "./types.ts";

type Status = Record<string, string>;

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));
const statusOf = (e: unknown) => (e as { status?: number })?.status;

async function checkLivekit(ctx: ServerContext): Promise<string> {
  const s = ctx.livekit;
  if (!s) return "not configured";
  try {
    await roomService(s, 5).listRooms();
    ctx.logger.info({ url: s.apiUrl }, "LiveKit RoomService accepted LIVEKIT_API_KEY");
    return "ok";
  } catch (e) {
    const status = statusOf(e);
    if (status === 401 || status === 403) {
      const msg = `LIVEKIT_API_KEY/LIVEKIT_API_SECRET do not match LIVEKIT_URL (${s.apiUrl} answered ${status}: ${errText(e)}); stage tokens, rooms, egress and seat revocation will fail`;
      ctx.logger.error({ url: s.apiUrl, status }, msg);
      return `LIVEKIT_API_KEY/LIVEKIT_API_SECRET rejected (${status})`;
    }
    ctx.logger.error({ url: s.apiUrl, err: errText(e) }, `LiveKit RoomService at ${s.apiUrl} (LIVEKIT_URL) is unreachable: ${errText(e)}`);
    return `LIVEKIT_URL unreachable: ${errText(e)}`;
  }
}

async function checkMux(ctx: ServerContext): Promise<string> {
  const s = muxSettings(ctx.config);
  if (!s) return "not configured";
  try {
    await muxClient(s, 5000).video.liveStreams.list({ limit: 1 });
    ctx.logger.info({ url: s.apiUrl }, "Mux accepted PLAYBACK_MUX_TOKEN_ID");
    return "ok";
  } catch (e) {
    const status = statusOf(e);
    if (status === 401 || status === 403) {
      ctx.logger.error(
        { url: s.apiUrl, status },
        `PLAYBACK_MUX_TOKEN_ID/PLAYBACK_MUX_TOKEN_SECRET were refused by ${s.apiUrl} (${status}): viral streams cannot be sent to Mux`,
      );
      return `PLAYBACK_MUX_TOKEN_ID/PLAYBACK_MUX_TOKEN_SECRET rejected (${status})`;
    }
    ctx.logger.error({ url: s.apiUrl, err: errText(e) }, `Mux API at ${s.apiUrl} (PLAYBACK_MUX_API_URL) is unreachable: ${errText(e)}`);
    return `PLAYBACK_MUX_API_URL unreachable: ${errText(e)}`;
  }
}

/** HEAD the base URL: any HTTP answer below 500 means the host is there (a bare origin may well 404 on /). */
async function checkHttp(ctx: ServerContext, name: string, url: string | undefined): Promise<string> {
  if (!url) return "not configured";
  try {
    const res = await fetch(url, { method: "HEAD", redirect: "manual", signal: AbortSignal.timeout(5000) });
    if (res.status === 401 || res.status === 403) {
      ctx.logger.error({ url, status: res.status }, `${name} (${url}) refuses us (${res.status}): check its access settings`);
      return `${name} refused (${res.status})`;
    }
    if (res.status >= 500) {
      ctx.logger.error({ url, status: res.status }, `${name} (${url}) answers ${res.status}`);
      return `${name} answered ${res.status}`;
    }
    ctx.logger.info({ url, status: res.status }, `${name} answers`);
    return "ok";
  } catch (e) {
    ctx.logger.error({ url, err: errText(e) }, `${name} (${url}) is unreachable: ${errText(e)}`);
    return `${name} unreachable: ${errText(e)}`;
  }
}

export const servicesFeature: FeatureFactory = async (ctx) => {
  const status: Status = { livekit: "checking", mux: "checking", origin: "checking", cdn: "checking" };
  const set = (k: string) => (v: string) => {
    status[k] = v;
  };
  const checks = Promise.all([
    checkLivekit(ctx).then(set("livekit")),
    checkMux(ctx).then(set("mux")),
    checkHttp(ctx, "PLAYBACK_ORIGIN_URL", ctx.config.PLAYBACK_ORIGIN_URL).then(set("origin")),
    checkHttp(ctx, "PLAYBACK_CDN_URL", ctx.config.PLAYBACK_CDN_URL).then(set("cdn")),
  ]);
  return {
    name: "services",
    // Only the services this process is configured for.
    services: () => Object.fromEntries(Object.entries(status).filter(([, v]) => v !== "not configured")),
    async stop() {
      await checks;
    },
  };
};
