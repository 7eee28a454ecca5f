// The LiveKit grant is decided in SQL (app_public.livekit_grant / app_private.livekit_grant_for);
// this file only reads it and names the errors that mean "this participant has no place in the room".
import type pg from "pg";

export interface LivekitGrant {
  room: string;
  identity: string;
  canPublish: boolean;
  canSubscribe: boolean;
  canPublishData: boolean;
  roomAdmin: boolean;
  ttlSeconds: number;
}

export interface GrantRow {
  room: string;
  identity: string;
  can_publish: boolean;
  can_subscribe: boolean;
  can_publish_data: boolean;
  room_admin: boolean;
  ttl_seconds: number;
}

export type Queryable = Pick<pg.ClientBase, "query">;

export function grantFromRow(row: GrantRow | undefined): LivekitGrant {
  if (!row?.room || !row.identity) throw new Error("livekit_grant returned no grant");
  return {
    room: row.room,
    identity: row.identity,
    canPublish: row.can_publish === true,
    canSubscribe: row.can_subscribe === true,
    canPublishData: row.can_publish_data === true,
    roomAdmin: row.room_admin === true,
    ttlSeconds: row.ttl_seconds,
  };
}

/** SQLSTATEs of livekit_grant that mean the user may not be in the room at all. */
const NO_PLACE = new Set(["NOAUT", "BANND", "NOFND", "NLIVE"]);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (v: unknown): v is string => typeof v === "string" && UUID.test(v);
/** The identity livekit_grant_for gives signed-out viewers. */
export const isAnonIdentity = (v: unknown): v is string => typeof v === "string" && /^anon-[0-9a-f]{20}$/.test(v);

/** Server side (owner connection): the grant of any user in any room, or null when they have no place there. */
export async function grantFor(db: Queryable, room: string, identity: string): Promise<LivekitGrant | null> {
  if (!isUuid(room) || !(isUuid(identity) || isAnonIdentity(identity))) return null;
  try {
    // A signed-out viewer (anon-<random>) has the grant of a null user: watch only.
    const { rows } = await db.query<GrantRow>({
      name: "tc_livekit_grant_for",
      text: "select * from app_private.livekit_grant_for($1, $2)",
      values: [room, isUuid(identity) ? identity : null],
    });
    const grant = grantFromRow(rows[0]);
    return { ...grant, identity };
  } catch (e) {
    if (NO_PLACE.has((e as { code?: string }).code ?? "")) return null;
    throw e;
  }
}
