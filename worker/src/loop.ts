// Sub-minute schedules: graphile-worker's crontab is minute-granular, so a periodic task re-adds
// itself with a job key and runAt = now + interval. Every worker start, a 5-second timer in every
// worker process and a once-a-minute cron entry restore a loop that went missing or whose job is held
// by a dead worker (a SIGKILLed worker keeps its job locked for hours). Adding a job whose key
// belongs to a locked job creates a fresh job, so recovery never waits for that stale lock.
import type { WorkerUtils } from "graphile-worker";

export interface AddJob {
  addJob: WorkerUtils["addJob"];
}

interface Queryable {
  query<R extends Record<string, unknown>>(sql: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

/** A loop job locked longer than this belongs to a dead worker (one run of a loop takes seconds). */
export const STALE_LOOP_SECONDS = 15;
/** How often each worker process checks its loops. */
export const LOOP_WATCH_INTERVAL_MS = 5_000;

/** Schedule the next run of a self-rescheduling task, replacing any pending one. */
export async function scheduleNext(helpers: AddJob, task: string, seconds: number): Promise<void> {
  await helpers.addJob(task, {}, { jobKey: task, jobKeyMode: "replace", runAt: new Date(Date.now() + seconds * 1000), maxAttempts: 1 });
}

/**
 * Re-add each loop whose job is missing, or locked for longer than STALE_LOOP_SECONDS. A loop that is
 * pending or running normally is left alone (no duplicate runs). Returns the tasks it restored.
 */
export async function restoreLoops(db: Queryable, tasks: readonly string[]): Promise<string[]> {
  const { rows } = await db.query<{ task: string }>(
    // add_job sits in the select list: it runs only for the rows the WHERE clause kept.
    `select t.task, graphile_worker.add_job(t.task, '{}'::json, max_attempts := 1, job_key := t.task,
                                            job_key_mode := 'preserve_run_at') is not null as added
       from unnest($1::text[]) as t(task)
      where not exists (select 1 from graphile_worker.jobs j
                         where j.key = t.task and (j.locked_at is null or j.locked_at > now() - make_interval(secs => $2)))`,
    [tasks, STALE_LOOP_SECONDS],
  );
  return rows.map((r) => r.task);
}
