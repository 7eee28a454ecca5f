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

export async function startWorker({ pool, concurrency, log }: StartWorkerOptions): Promise<Worker> {
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
  let watching: Promise<unknown> = Promise.resolve();
  const watch = setInterval(() => {
    watching = watching
      .then(() => restoreLoops(pool, LOOP_TASKS))
      .then(
        (restored) => restored.length && log("warn", `restored loops held by a dead worker or missing: ${restored.join(", ")}`),
        (e: Error) => log("warn", `loop watch failed: ${e.message}`),
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
