// The worker: graphile-worker with our task list. Started in-process by `npm start`, or alone by
// `npm run worker`. Connects as the database owner (jobs touch app_private).
import { Logger, makeWorkerUtils, run, type TaskList, type Logger as WorkerLogger } from "graphile-worker";
import type pg from "pg";
import { LOOP_WATCH_INTERVAL_MS, restoreLoops } from "./loop.ts";
import { LOOP_TASKS } from "./loops.ts";
import { gift_ledger__settle } from "./tasks/gift_ledger__settle.ts";
import { loops__ensure } from "./tasks/loops__ensure.ts";
import { stream_seats__enforce } from "./tasks/stream_seats__enforce.ts";
import { streams__check_hls } from "./tasks/streams__check_hls.ts";
import { streams__viral_tick } from "./tasks/streams__viral_tick.ts";
import { worker__heartbeat } from "./tasks/worker__heartbeat.ts";

export const taskList: TaskList = {
  worker__heartbeat,
  loops__ensure,
  gift_ledger__settle,
  streams__check_hls,
  streams__viral_tick,
  stream_seats__enforce,
};

export const crontab = "* * * * * loops__ensure ?max=1";

export interface StartWorkerOptions {
  pool: pg.Pool;
  concurrency: number;
  log: (level: "info" | "warn" | "error" | "debug", msg: string) => void;
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
function guardConnectionRejections(log: StartWorkerOptions["log"]): void {
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
    log("warn", `database unreachable while finishing a job: ${(reason as Error).message}${quiet ? ` (+${quiet} more)` : ""}`);
    quiet = 0;
  });
}

export async function startWorker({ pool, concurrency, log }: StartWorkerOptions): Promise<Worker> {
  guardConnectionRejections(log);
  const logger: WorkerLogger = new Logger(() => (level, message) => {
    // Loops complete a job every few seconds: success lines are debug noise, failures are not.
    const routine = level === "info" && /^Completed task \d+ \(.*\) with success/.test(message);
    log(level === "error" ? "error" : level === "warning" ? "warn" : level === "info" && !routine ? "info" : "debug", message);
  });
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
  // While the database is down: one line when the watch starts failing, one when it works again.
  let watching: Promise<unknown> = Promise.resolve();
  let downSince: number | null = null;
  const watch = setInterval(() => {
    watching = watching
      .then(() => restoreLoops(pool, LOOP_TASKS))
      .then(
        (restored) => {
          if (downSince !== null) log("info", `loop watch works again after ${((Date.now() - downSince) / 1000).toFixed(1)} s`);
          downSince = null;
          if (restored.length) log("warn", `restored loops held by a dead worker or missing: ${restored.join(", ")}`);
        },
        (e: Error) => {
          if (downSince === null) log("warn", `loop watch failed: ${e.message} (retrying every ${LOOP_WATCH_INTERVAL_MS / 1000} s)`);
          downSince ??= Date.now();
        },
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
