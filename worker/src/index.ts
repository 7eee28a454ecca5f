// The worker: graphile-worker with our task list. Started in-process by `npm start`, or alone by
// `npm run worker`. Connects as the database owner (jobs touch app_private).
import { Logger, makeWorkerUtils, type Runner, run, type TaskList, type Logger as WorkerLogger } from "graphile-worker";
import type pg from "pg";
import { ensureLoop } from "./loop.ts";
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

export async function startWorker({ pool, concurrency, log }: StartWorkerOptions): Promise<Runner> {
  const logger: WorkerLogger = new Logger(() => (level, message) => {
    // Loops complete a job every few seconds: success lines are debug noise, failures are not.
    const routine = level === "info" && /^Completed task \d+ \(.*\) with success/.test(message);
    log(level === "error" ? "error" : level === "warning" ? "warn" : level === "info" && !routine ? "info" : "debug", message);
  });
  const utils = await makeWorkerUtils({ pgPool: pool, logger });
  try {
    await utils.migrate();
    for (const task of LOOP_TASKS) await ensureLoop(utils, task);
  } finally {
    await utils.release();
  }
  return await run({ pgPool: pool, concurrency, taskList, crontab, logger, noHandleSignals: true, pollInterval: 1000 });
}
