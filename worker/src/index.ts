// The worker: graphile-worker with our task list. Started in-process by `npm start`, or alone by
// `npm run worker`. Connects as the database owner (jobs touch app_private). Everything it needs
// from the process (pool, settings, logger) is passed in by the entry that started it.
import { Logger, makeWorkerUtils, run, type TaskList, type Logger as WorkerLogger } from "graphile-worker";
import type pg from "pg";
import type { LivekitSettings } from "../../core/livekit/config.ts";
import { egressService, roomService } from "../../core/livekit/rooms.ts";
import { type Logger as PinoLogger, stateLog } from "../../core/logger.ts";
import type { OutboundPolicy } from "../../core/outbound.ts";
import { type MuxSettings, muxClient } from "../../core/video/mux.ts";
import { LOOP_WATCH_INTERVAL_MS, restoreLoops } from "./loop.ts";
import { LOOP_TASKS } from "./loops.ts";
import { gift_ledger__settle } from "./tasks/gift_ledger__settle.ts";
import { loops__ensure } from "./tasks/loops__ensure.ts";
import { makeStreamEgressesRun } from "./tasks/stream_egresses__run.ts";
import { makeStreamSeatsEnforce } from "./tasks/stream_seats__enforce.ts";
import { makeStreamsCheckHls } from "./tasks/streams__check_hls.ts";
import { makeStreamsLivekitRoom } from "./tasks/streams__livekit_room.ts";
import { streams__viral_tick } from "./tasks/streams__viral_tick.ts";
import { worker__heartbeat } from "./tasks/worker__heartbeat.ts";

export interface TaskDeps {
  /** LiveKit settings of this process (null: LiveKit is not configured, seats are not enforced). */
  livekit: LivekitSettings | null;
  /** Hosts the HLS checks may fetch: the configured origin, CDN and Mux (core/outbound.ts). */
  outbound: OutboundPolicy;
  /** Mux settings (null: viral streams egress as HLS to the origin, not RTMP to Mux). */
  mux?: MuxSettings | null;
}

export function makeTaskList({ livekit, outbound, mux = null }: TaskDeps): TaskList {
  const rooms = livekit ? roomService(livekit, 5) : null;
  return {
    streams__livekit_room: makeStreamsLivekitRoom(rooms),
    stream_egresses__run: makeStreamEgressesRun({
      egress: livekit ? egressService(livekit) : null,
      mux: mux ? { settings: mux, client: muxClient(mux) } : null,
    }),
    worker__heartbeat,
    loops__ensure,
    gift_ledger__settle,
    streams__check_hls: makeStreamsCheckHls(outbound),
    streams__viral_tick,
    stream_seats__enforce: makeStreamSeatsEnforce(livekit ? { settings: livekit, rooms: roomService(livekit) } : null),
  };
}

export const crontab = "* * * * * loops__ensure ?max=1";

export interface StartWorkerOptions extends TaskDeps {
  pool: pg.Pool;
  concurrency: number;
  logger: PinoLogger;
}

export interface Worker {
  /** Settles when the worker has stopped. */
  promise: Promise<void>;
  stop(): Promise<void>;
}

const CONNECTION_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTCONN",
  "57P01",
  "57P02",
  "57P03",
]);

/** A lost or refused database connection (the database restarting, crashed, or unreachable). */
export function isConnectionError(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | null;
  const code = typeof err?.code === "string" ? err.code : "";
  return (
    CONNECTION_ERROR_CODES.has(code) ||
    code.startsWith("08") ||
    /Connection terminated|connection timeout|Client has encountered a connection error/i.test(String(err?.message ?? ""))
  );
}

let guarded = false;

/**
 * graphile-worker 0.18 does not await completeJob/failJob (dist/worker.js): while the database is
 * down their rejection is unhandled, and Node ends the process on an unhandled rejection. A
 * connection error there is logged (once per 10 s, with a count) and otherwise ignored: the job stays
 * locked, and restoreLoops replaces a stale loop job within STALE_LOOP_SECONDS. Any other unhandled
 * rejection still ends the process, as before.
 */
function guardConnectionRejections(log: PinoLogger): void {
  if (guarded) return;
  guarded = true;
  let lastLog = 0;
  let quiet = 0;
  process.on("unhandledRejection", (reason) => {
    if (!isConnectionError(reason)) throw reason;
    if (Date.now() - lastLog < 10_000) {
      quiet++;
      return;
    }
    lastLog = Date.now();
    log.warn(`database unreachable while finishing a job: ${(reason as Error).message}${quiet ? ` (+${quiet} more)` : ""}`);
    quiet = 0;
  });
}

export async function startWorker({
  pool,
  concurrency,
  logger: parent,
  livekit,
  outbound,
  mux = null,
}: StartWorkerOptions): Promise<Worker> {
  const log = parent.child({ component: "worker" });
  guardConnectionRejections(log);
  const logger: WorkerLogger = new Logger(() => (level, message) => {
    // Loops complete a job every few seconds: success lines are debug noise, failures are not.
    const routine = level === "info" && /^Completed task \d+ \(.*\) with success/.test(message);
    log[level === "error" ? "error" : level === "warning" ? "warn" : level === "info" && !routine ? "info" : "debug"](message);
  });
  const taskList = makeTaskList({ livekit, outbound, mux });
  const utils = await makeWorkerUtils({ pgPool: pool, logger });
  try {
    await utils.migrate();
    await restoreLoops(pool, LOOP_TASKS);
  } finally {
    await utils.release();
  }
  const runner = await run({ pgPool: pool, concurrency, taskList, crontab, logger, noHandleSignals: true, pollInterval: 1000 });
  // Watch the loops every few seconds: a loop held by a SIGKILLed worker is restored within
  // STALE_LOOP_SECONDS + LOOP_WATCH_INTERVAL_MS instead of at the next minute's cron run.
  // A failing watch (database away) is logged when it starts failing and when it recovers.
  const watchState = stateLog(log, "loop watch");
  let watching: Promise<unknown> = Promise.resolve();
  const watch = setInterval(() => {
    watching = watching
      .then(() => restoreLoops(pool, LOOP_TASKS))
      .then(
        (restored) => {
          watchState.ok();
          if (restored.length) log.warn(`restored loops held by a dead worker or missing: ${restored.join(", ")}`);
        },
        (e: Error) => watchState.fail(e),
      );
  }, LOOP_WATCH_INTERVAL_MS);
  watch.unref();
  return {
    promise: runner.promise,
    async stop() {
      clearInterval(watch);
      await watching;
      await runner.stop();
    },
  };
}
