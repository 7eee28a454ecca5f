// Once-a-minute cron backstop: restores every self-rescheduling loop that has gone missing or is held
// by a dead worker (the 5-second watch in each worker process normally gets there first).
import type { Task } from "graphile-worker";
import { restoreLoops } from "../loop.ts";
import { LOOP_TASKS } from "../loops.ts";

export const loops__ensure: Task = async (_payload, helpers) => {
  const restored = await helpers.withPgClient((client) => restoreLoops(client, LOOP_TASKS));
  if (restored.length) helpers.logger.warn(`restored loops: ${restored.join(", ")}`);
};
