// Once-a-minute cron backstop: restores every self-rescheduling loop that has gone missing.
import type { Task } from "graphile-worker";
import { ensureLoop } from "../loop.ts";
import { LOOP_TASKS } from "../loops.ts";

export const loops__ensure: Task = async (_payload, helpers) => {
  for (const task of LOOP_TASKS) await ensureLoop(helpers, task);
};
