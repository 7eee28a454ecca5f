// Sub-minute schedules: graphile-worker's crontab is minute-granular, so a periodic task re-adds
// itself with a job key and runAt = now + interval. A once-a-minute cron entry (and every worker
// start) calls ensureLoop, which restores the loop if it was lost (e.g. its worker was SIGKILLed while
// holding the job: a locked job's key is moved to a fresh job, so we never wait for the stale lock).
import type { WorkerUtils } from "graphile-worker";

export interface AddJob {
  addJob: WorkerUtils["addJob"];
}

/** Schedule the next run of a self-rescheduling task, replacing any pending one. */
export async function scheduleNext(helpers: AddJob, task: string, seconds: number): Promise<void> {
  await helpers.addJob(task, {}, { jobKey: task, jobKeyMode: "replace", runAt: new Date(Date.now() + seconds * 1000), maxAttempts: 1 });
}

/** Make sure a loop job exists without postponing a pending one. */
export async function ensureLoop(helpers: AddJob, task: string): Promise<void> {
  await helpers.addJob(task, {}, { jobKey: task, jobKeyMode: "preserve_run_at", maxAttempts: 1 });
}
