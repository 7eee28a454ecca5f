// One health check for one stream's pending viral-mode transition: fetch the URL the stream would
// serve (app_private.hls_check_target → app_public.streams_hls_url), check it, and report through
// app_private.record_hls_check, which alone decides whether viewers switch.
import type { Task } from "graphile-worker";
import type { OutboundPolicy } from "../../../core/outbound.ts";
import { checkHls, type HlsCheckResult } from "../playback/hls_check.ts";

interface Payload {
  streamId: string;
}

function assertPayload(payload: unknown): Payload {
  const p = payload as Partial<Payload> | null;
  if (!p || typeof p.streamId !== "string" || !/^[0-9a-f-]{36}$/i.test(p.streamId)) {
    throw new Error(`streams__check_hls: payload must be {streamId: uuid}, got ${JSON.stringify(payload)}`);
  }
  return { streamId: p.streamId };
}

/** The task, fetching only what `policy` allows (the configured origin, CDN and Mux hosts). */
export const makeStreamsCheckHls =
  (policy: OutboundPolicy): Task =>
  async (payload, helpers) => {
    const { streamId } = assertPayload(payload);
    const { rows } = await helpers.withPgClient((c) =>
      c.query<{ pending: string; url: string | null }>("select pending, url from app_private.hls_check_target($1)", [streamId]),
    );
    const target = rows[0];
    if (!target) return; // nothing pending (done meanwhile, stream gone or ended)
    let result: HlsCheckResult;
    if (target.pending === "to_stage") {
      // Back to the broadcaster's own room: nothing to fetch.
      result = { ok: true, error: null, detail: { url: "", ms: 0 } };
    } else if (!target.url) {
      result = { ok: false, error: "no HLS URL: the stream's provider is not configured on this server", detail: { url: "", ms: 0 } };
    } else {
      result = await checkHls(target.url, { policy });
    }
    const out = await helpers.withPgClient((c) =>
      c.query<{ outcome: string }>("select app_private.record_hls_check($1, $2, $3, $4, $5) as outcome", [
        streamId,
        target.pending === "to_stage" ? null : target.url,
        result.ok,
        result.error,
        JSON.stringify(result.detail),
      ]),
    );
    const outcome = out.rows[0]?.outcome;
    if (result.ok) helpers.logger.info(`stream ${streamId}: ${target.pending} check passed (${outcome})`);
    else helpers.logger.warn(`stream ${streamId}: ${target.pending} check of ${target.url} failed: ${result.error} (${outcome})`);
  };
