// Making LiveKit agree with the database: RoomService (Twirp, through the SDK's RoomServiceClient)
// UpdateParticipant with the grant computed in SQL, RemoveParticipant when that fails or the user has
// no place in the room, then ListParticipants to check that LiveKit agrees. Used by the
// stream_seats__enforce task and by the webhook endpoint.
import { EgressClient, RoomServiceClient } from "livekit-server-sdk";
import type { LivekitSettings } from "./config.ts";
import { grantFor, isUuid, type LivekitGrant, type Queryable } from "./grant.ts";

export type RoomService = Pick<RoomServiceClient, "updateParticipant" | "removeParticipant" | "listParticipants" | "listRooms">;

/** A RoomService client (it signs a short-lived roomAdmin token per call): make one per process and pass it on. */
export function roomService(s: LivekitSettings, requestTimeoutSeconds = 2): RoomServiceClient {
  return new RoomServiceClient(s.apiUrl, s.apiKey, s.apiSecret, { requestTimeout: requestTimeoutSeconds, failover: false });
}

/** An Egress client (it signs a short-lived roomRecord token per call): one per process. */
export function egressService(s: LivekitSettings, requestTimeoutSeconds = 10): EgressClient {
  return new EgressClient(s.apiUrl, s.apiKey, s.apiSecret, { requestTimeout: requestTimeoutSeconds });
}

export type EgressService = Pick<EgressClient, "startRoomCompositeEgress" | "stopEgress" | "listEgress">;
export type RoomAdmin = Pick<RoomServiceClient, "createRoom" | "deleteRoom">;

export const isNotFound = (e: unknown) => {
  const err = e as { code?: unknown; status?: unknown };
  return err?.code === "not_found" || err?.status === 404;
};

/** applied: LiveKit holds the grant's permissions; removed: ejected; absent: not in the room (the webhook enforces on join). */
export type Outcome = "applied" | "removed" | "absent";

async function remove(svc: RoomService, room: string, identity: string): Promise<Outcome> {
  try {
    await svc.removeParticipant(room, identity);
    return "removed";
  } catch (e) {
    if (isNotFound(e)) return "absent";
    throw e;
  }
}

/** One attempt; throws while LiveKit does not (yet) agree with `grant` (null: no place in the room). */
export async function applyGrant(svc: RoomService, room: string, identity: string, grant: LivekitGrant | null): Promise<Outcome> {
  let outcome: Outcome;
  if (!grant) {
    outcome = await remove(svc, room, identity);
  } else {
    try {
      await svc.updateParticipant(room, identity, {
        permission: {
          canPublish: grant.canPublish,
          canPublishData: grant.canPublishData,
          canSubscribe: grant.canSubscribe,
          canUpdateMetadata: false,
        },
      });
      outcome = "applied";
    } catch (e) {
      if (isNotFound(e)) outcome = "absent";
      else if (grant.canPublish) throw e;
      else outcome = await remove(svc, room, identity); // could not take publish away: eject
    }
  }
  let participants: Awaited<ReturnType<RoomService["listParticipants"]>>;
  try {
    participants = await svc.listParticipants(room);
  } catch (e) {
    if (!isNotFound(e)) throw e;
    participants = [];
  }
  const p = participants.find((x) => x.identity === identity);
  if (!p) return outcome === "applied" ? "absent" : outcome;
  if (!grant || outcome !== "applied") throw new Error(`participant ${identity} is still in room ${room}`);
  const perm = p.permission;
  if (!perm || perm.canPublish !== grant.canPublish || perm.canPublishData !== grant.canPublishData)
    throw new Error(`LiveKit still reports canPublish=${perm?.canPublish} for ${identity} in room ${room}`);
  return outcome;
}

async function record(
  db: Queryable,
  room: string,
  identity: string,
  grant: LivekitGrant | null,
  state: string,
  attempts: number,
  error: string | null,
) {
  if (!isUuid(room) || !isUuid(identity)) return;
  await db.query(
    `insert into app_private.livekit_enforcements (stream_id, user_id, can_publish, state, attempts, last_error, updated_at)
     select $1, $2, $3, $4, $5, $6, now()
      where exists (select 1 from app_public.streams where id = $1) and exists (select 1 from app_public.users where id = $2)
     on conflict (stream_id, user_id) do update
       set can_publish = excluded.can_publish, state = excluded.state, attempts = excluded.attempts,
           last_error = excluded.last_error, updated_at = excluded.updated_at`,
    [room, identity, grant?.canPublish ?? false, state, attempts, error],
  );
}

export interface EnforceOptions {
  /** Give up (and throw, so the job is retried later) after this long. */
  deadlineMs?: number;
  onRetry?: (attempt: number, error: Error) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Re-read the grant and apply it until LiveKit agrees, with backoff (100 ms doubling to 2 s). */
export async function enforceGrant(
  db: Queryable,
  svc: RoomService,
  room: string,
  identity: string,
  opts: EnforceOptions = {},
): Promise<Outcome> {
  const deadline = Date.now() + (opts.deadlineMs ?? 15_000);
  let delay = 100;
  for (let attempt = 1; ; attempt++) {
    const grant = await grantFor(db, room, identity);
    try {
      const outcome = await applyGrant(svc, room, identity, grant);
      await record(db, room, identity, grant, outcome, attempt, null);
      return outcome;
    } catch (e) {
      const err = e as Error;
      if (Date.now() + delay > deadline) {
        await record(db, room, identity, grant, "failing", attempt, err.message);
        throw err;
      }
      opts.onRetry?.(attempt, err);
      await sleep(delay);
      delay = Math.min(delay * 2, 2000);
    }
  }
}
