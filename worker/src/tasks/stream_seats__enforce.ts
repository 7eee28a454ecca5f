// Makes LiveKit agree with a seat (or with one participant's grant): runs when a seat becomes active
// or stops being active, and a second before a seat expires (it waits for the instant, marks the seat
// expired and enforces at once). Jobs of one participant share a serial queue, so an older decision
// never lands after a newer one. Retries with backoff inside the job for 15 s, then fails so
// graphile-worker retries it later (its own backoff). LiveKit's settings and client come from the
// process entry (worker/src/index.ts makeTaskList).
import type { Task } from "graphile-worker";
import type { LivekitSettings } from "../../../core/livekit/config.ts";
import { isUuid } from "../../../core/livekit/grant.ts";
import { enforceGrant, type RoomService } from "../../../core/livekit/rooms.ts";

type Payload = { seat_id: string } | { stream_id: string; user_id: string };

function assertPayload(p: unknown): Payload {
  const o = (p ?? {}) as Record<string, unknown>;
  if (isUuid(o.seat_id)) return { seat_id: o.seat_id };
  if (isUuid(o.stream_id) && isUuid(o.user_id)) return { stream_id: o.stream_id, user_id: o.user_id };
  throw new Error(`stream_seats__enforce: payload needs seat_id or stream_id + user_id, got ${JSON.stringify(p)}`);
}

interface SeatRow {
  id: string;
  stream_id: string;
  user_id: string;
  status: string;
  accepted_at: Date | null;
  due_in: number | null;
}

const SEAT = `select id, stream_id, user_id, status, accepted_at,
  case when status in ('invited', 'active') then extract(epoch from expires_at - now())::float8 end as due_in
  from app_public.stream_seats where id = $1`;

/** The task, given this process's LiveKit settings and RoomService client (null: not configured). */
export const makeStreamSeatsEnforce =
  (livekit: { settings: LivekitSettings; rooms: RoomService } | null): Task =>
  async (payload, helpers) => {
    const p = assertPayload(payload);
    await helpers.withPgClient(async (db) => {
      let room: string;
      let identity: string;
      if ("seat_id" in p) {
        const seat = (await db.query<SeatRow>(SEAT, [p.seat_id])).rows[0];
        if (!seat) return;
        if (seat.due_in != null && seat.due_in <= 1.5) {
          if (seat.due_in > 0) await new Promise((r) => setTimeout(r, seat.due_in! * 1000));
          await db.query("select app_private.expire_seat($1)", [seat.id]);
          // Enforce here rather than wait for the job the status change enqueued: that one shares this
          // job's serial queue and would only start after the next poll. It runs later as a re-check.
        }
        if (!seat.accepted_at) return; // never on stage: nothing to tell LiveKit
        room = seat.stream_id;
        identity = seat.user_id;
      } else {
        room = p.stream_id;
        identity = p.user_id;
      }
      if (!livekit) {
        helpers.logger.warn(`LiveKit is not configured: grant of ${identity} in room ${room} not enforced`);
        return;
      }
      // One warning when enforcement starts failing; the retries that follow are debug lines, and the
      // outcome (or the final failure, which graphile-worker logs) says how it ended.
      const outcome = await enforceGrant(db, livekit.rooms, room, identity, {
        onRetry: (n, e) =>
          n === 1
            ? helpers.logger.warn(`LiveKit enforcement for ${identity} in ${room} failed, retrying for up to 15 s: ${e.message}`)
            : helpers.logger.debug(`LiveKit enforcement for ${identity} in ${room}, attempt ${n} failed: ${e.message}`),
      });
      helpers.logger.debug(`LiveKit enforcement for ${identity} in ${room}: ${outcome}`);
    });
  };
