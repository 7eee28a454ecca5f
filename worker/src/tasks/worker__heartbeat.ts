// Proves the worker runs jobs: stamps app_private.worker_heartbeats every 5 s (read by /readyz).
import type { Task } from "graphile-worker";
import { scheduleNext } from "../loop.ts";

export const HEARTBEAT_SECONDS = 5;

export const worker__heartbeat: Task = async (_payload, helpers) => {
  await helpers.withPgClient((client) =>
    client.query(
      `insert into app_private.worker_heartbeats (worker_id, beat_at) values ($1, now())
       on conflict (worker_id) do update set beat_at = excluded.beat_at`,
      ["worker"],
    ),
  );
  await scheduleNext(helpers, "worker__heartbeat", HEARTBEAT_SECONDS);
};
