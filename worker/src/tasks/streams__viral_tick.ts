// Viral-mode loop (every 2 s): apply the viewer-count thresholds, then enqueue one streams__check_hls
// job per due check. SQL never touches the job queue; it only marks checks due (check_due_at), and
// claims are leased, so a lost job is re-enqueued when its lease runs out.
import type { Task } from "graphile-worker";
import { scheduleNext } from "../loop.ts";

export const VIRAL_TICK_SECONDS = 2;
const LEASE_SECONDS = 30;

export const streams__viral_tick: Task = async (_payload, helpers) => {
  try {
    const claimed = await helpers.withPgClient(async (c) => {
      await c.query("select app_private.scan_viral_thresholds()");
      const { rows } = await c.query<{ stream_id: string }>("select stream_id from app_private.claim_hls_checks($1, 100)", [LEASE_SECONDS]);
      return rows;
    });
    for (const { stream_id } of claimed) {
      await helpers.addJob("streams__check_hls", { streamId: stream_id }, { jobKey: `streams__check_hls:${stream_id}`, maxAttempts: 1 });
    }
  } catch (e) {
    // The playback migration is not applied in this database (e.g. a partial test setup): idle.
    if ((e as { code?: string }).code !== "42883") throw e;
  } finally {
    await scheduleNext(helpers, "streams__viral_tick", VIRAL_TICK_SECONDS);
  }
};
