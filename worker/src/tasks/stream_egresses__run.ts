// One LiveKit egress of a stream that goes viral, through the SDK's EgressClient (token grant
// roomRecord). app_private.egress_job says what to do and app_private.record_egress decides what follows
// (retry with backoff, let the waiting health check run, stop what is no longer wanted):
//  - start: RTMP to the stream's Mux live stream (created once with @mux/mux-node, then reused; its
//    playback id becomes the stream's HLS source) when Mux is configured, else HLS segments where the
//    stream's origin URL points; then wait until LiveKit reports EGRESS_ACTIVE (ListEgress);
//  - watch (every 5 s while active): still EGRESS_ACTIVE? if not, it failed (restarted with backoff);
//  - stop: StopEgress (an egress that already ended is fine).
// Jobs of one stream share the serial queue egress:<stream>. Viewers are switched only later, by the
// health check of the playlist (streams__check_hls), never by this job.

import type Mux from "@mux/mux-node";
import type { Task } from "graphile-worker";
import { EgressStatus, SegmentedFileOutput, StreamOutput, StreamProtocol } from "livekit-server-sdk";
import { isUuid } from "../../../core/livekit/grant.ts";
import type { EgressService } from "../../../core/livekit/rooms.ts";
import { ensureLiveStream, type MuxSettings } from "../../../core/video/mux.ts";

interface Job {
  id: string;
  stream_id: string;
  room: string;
  target: "mux" | "origin";
  state: string;
  action: "start" | "poll" | "watch" | "stop" | "none";
  egress_id: string | null;
  mux_live_stream_id: string | null;
  segment_prefix: string;
  playlist_name: string;
  live_playlist_name: string;
}

export interface EgressDeps {
  egress: EgressService | null;
  mux: { settings: MuxSettings; client: Mux } | null;
  /** How long an egress may stay EGRESS_STARTING before it counts as failed. */
  activeWithinMs?: number;
  pollMs?: number;
}

const ENDED = new Set([
  EgressStatus.EGRESS_FAILED,
  EgressStatus.EGRESS_ABORTED,
  EgressStatus.EGRESS_COMPLETE,
  EgressStatus.EGRESS_LIMIT_REACHED,
]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export const makeStreamEgressesRun =
  (deps: EgressDeps): Task =>
  async (payload, helpers) => {
    const id = (payload as { id?: unknown } | null)?.id;
    if (!isUuid(id)) throw new Error(`stream_egresses__run: payload needs id, got ${JSON.stringify(payload)}`);
    const q = <T extends Record<string, unknown>>(text: string, values: unknown[]) =>
      helpers.withPgClient((c) => c.query<T>(text, values)).then((r) => r.rows);
    const record = async (
      state: string,
      fields: { egressId?: string | null; error?: string | null; mux?: { id: string; playbackId: string } } = {},
    ) =>
      (
        await q<{ outcome: string }>("select app_private.record_egress($1, $2, $3, $4, $5, $6) as outcome", [
          id,
          state,
          fields.egressId ?? null,
          fields.error ?? null,
          fields.mux?.id ?? null,
          fields.mux?.playbackId ?? null,
        ])
      )[0]?.outcome;
    const job = (await q<Job & Record<string, unknown>>("select * from app_private.egress_job($1)", [id]))[0];
    if (!job || job.action === "none") return;
    const log = (msg: string) => helpers.logger.info(`egress of stream ${job.stream_id}: ${msg}`);

    const stopRemote = async (egressId: string | null) => {
      if (egressId && deps.egress) {
        try {
          await deps.egress.stopEgress(egressId);
        } catch (e) {
          const err = e as { status?: number; code?: string };
          // Already ended (412 failed_precondition) or unknown to LiveKit: nothing left to stop.
          if (err.status !== 404 && err.status !== 412 && err.code !== "not_found" && err.code !== "failed_precondition") throw e;
        }
      }
    };
    const stop = async (egressId: string | null) => {
      await stopRemote(egressId);
      log(`stopped (${await record("stopped")})`);
    };

    if (job.action === "stop") return await stop(job.egress_id);

    if (job.action === "watch") {
      // Active: still running? (A LiveKit that does not answer: the job fails and graphile-worker retries it.)
      if (!deps.egress || !job.egress_id) return;
      const info = (await deps.egress.listEgress({ egressId: job.egress_id }))[0];
      if (info?.status === EgressStatus.EGRESS_ACTIVE) return void (await record("active", { egressId: job.egress_id }));
      const why = info ? `${EgressStatus[info.status]}: ${info.error || "no error given"}` : "LiveKit no longer knows it";
      const outcome = await record("failed", { egressId: job.egress_id, error: `while active: ${why}` });
      helpers.logger.warn(`egress ${job.egress_id} of stream ${job.stream_id} stopped while active (${why}): ${outcome}`);
      return;
    }

    let egressId = job.egress_id;
    if (job.action === "start") {
      if (!deps.egress) return void log(`not started: ${await record("failed", { error: "LiveKit is not configured in the worker" })}`);
      let mux: { id: string; playbackId: string } | undefined;
      let output: StreamOutput | SegmentedFileOutput;
      try {
        if (job.target === "mux") {
          if (!deps.mux) throw new Error("Mux is not configured in the worker (PLAYBACK_MUX_TOKEN_ID/SECRET)");
          const ls = await ensureLiveStream(deps.mux.client, job.mux_live_stream_id);
          mux = { id: ls.id, playbackId: ls.playbackId };
          if (ls.created) log(`Mux live stream ${ls.id} created (playback id ${ls.playbackId})`);
          output = new StreamOutput({ protocol: StreamProtocol.RTMP, urls: [`${deps.mux.settings.rtmpUrl}/${ls.streamKey}`] });
        } else {
          output = new SegmentedFileOutput({
            filenamePrefix: job.segment_prefix,
            playlistName: job.playlist_name,
            livePlaylistName: job.live_playlist_name,
            segmentDuration: 2,
          });
        }
        const info = await deps.egress.startRoomCompositeEgress(job.room, output, { layout: "speaker" });
        egressId = info.egressId;
      } catch (e) {
        const outcome = await record("failed", { error: `start: ${message(e)}`, mux });
        helpers.logger.warn(`egress of stream ${job.stream_id} could not start: ${message(e)} (${outcome})`);
        return;
      }
      const outcome = await record("starting", { egressId, mux });
      if (outcome === "stop") return await stop(egressId);
      log(`started ${egressId} (${job.target})`);
    }

    // Starting: wait until LiveKit reports it active (or failed).
    if (!egressId || !deps.egress) return void (await record("failed", { error: "no egress to wait for" }));
    const deadline = Date.now() + (deps.activeWithinMs ?? 30_000);
    for (;;) {
      let info: Awaited<ReturnType<EgressService["listEgress"]>>[number] | undefined;
      try {
        info = (await deps.egress.listEgress({ egressId }))[0];
      } catch (e) {
        helpers.logger.debug(`ListEgress ${egressId}: ${message(e)}`);
      }
      if (info?.status === EgressStatus.EGRESS_ACTIVE) return void log(`${egressId} active (${await record("active", { egressId })})`);
      if (info && ENDED.has(info.status)) {
        const outcome = await record("failed", { egressId, error: `${EgressStatus[info.status]}: ${info.error || "no error given"}` });
        helpers.logger.warn(`egress ${egressId} of stream ${job.stream_id} ended before it was active: ${info.error} (${outcome})`);
        return;
      }
      if (Date.now() > deadline) {
        await stopRemote(egressId).catch(() => {});
        const outcome = await record("failed", { egressId, error: "did not become active in time" });
        helpers.logger.warn(`egress ${egressId} of stream ${job.stream_id} did not become active in time (${outcome})`);
        return;
      }
      await sleep(deps.pollMs ?? 500);
    }
  };
