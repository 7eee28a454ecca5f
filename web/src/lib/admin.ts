// The admin console: settlement health (gift_batch_logs for the chart), failed gifts, LiveKit and
// HLS failures, users (search, roles, site-wide bans, coin grants) and the moderation log. Admins see
// everything; moderators the moderation log. Every rule is SQL (admin_* functions, ban_site_user,
// set_user_role, grant_coins); this module only asks.
import { type CallOptions, gql } from "#lib/api.ts";

export interface BatchPoint {
  startedAt: string;
  backlog: number;
  lagMs: number;
  processed: number;
  failed: number;
}
export interface FailedGift {
  rowId: string;
  createdAt: string;
  status: string;
  senderUsername: string | null;
  receiverUsername: string | null;
  coins: string;
}
export interface LivekitFailure {
  streamTitle: string | null;
  username: string | null;
  attempts: number;
  lastError: string | null;
  updatedAt: string;
}
export interface HlsFailure {
  streamId: string;
  title: string;
  hlsProvider: string | null;
  lastError: string | null;
  lastCheckAt: string | null;
}
export interface AdminUser {
  rowId: string;
  username: string;
  displayName: string;
  email: string | null;
  role: "viewer" | "broadcaster" | "moderator" | "admin";
  isBanned: boolean;
  balance: string;
}
export interface ModerationEntry {
  rowId: string;
  createdAt: string;
  action: string;
  streamTitle: string | null;
  actorUsername: string | null;
  targetUsername: string | null;
  reason: string | null;
}

export const ROLES = ["viewer", "broadcaster", "moderator", "admin"] as const;

export async function loadModerationLog(opts: CallOptions): Promise<ModerationEntry[]> {
  const data = await gql<{ adminModerationLog: { nodes: ModerationEntry[] } }>(
    `query ModLog { adminModerationLog(first: 50) { nodes { rowId createdAt action streamTitle actorUsername targetUsername reason } } }`,
    {},
    opts,
  );
  return data.adminModerationLog.nodes;
}

interface RawBatch {
  startedAt: string;
  backlogCount: string;
  oldestSettledLagMs: string | null;
  oldestPendingLagMs: string | null;
  processed: number;
  failed: number;
}

export async function loadAdmin(search: string, opts: CallOptions) {
  const data = await gql<{
    allGiftBatchLogs: { nodes: RawBatch[] };
    adminFailedGifts: { nodes: FailedGift[] };
    adminLivekitFailures: { nodes: LivekitFailure[] };
    allPlaybackHealths: { nodes: (HlsFailure & { alerting: boolean })[] };
    adminUsers: { nodes: AdminUser[] };
  }>(
    `query Admin($search: String) {
      allGiftBatchLogs(orderBy: [STARTED_AT_DESC], first: 100) {
        nodes { startedAt backlogCount oldestSettledLagMs oldestPendingLagMs processed failed }
      }
      adminFailedGifts(first: 20) { nodes { rowId createdAt status senderUsername receiverUsername coins } }
      adminLivekitFailures(first: 20) { nodes { streamTitle username attempts lastError updatedAt } }
      allPlaybackHealths(first: 50) { nodes { streamId title hlsProvider lastError lastCheckAt alerting } }
      adminUsers(search: $search, first: 50) { nodes { rowId username displayName email role isBanned balance } }
    }`,
    { search: search || null },
    opts,
  );
  return {
    batches: data.allGiftBatchLogs.nodes
      .map(
        (b): BatchPoint => ({
          startedAt: b.startedAt,
          backlog: Number(b.backlogCount),
          lagMs: Math.max(Number(b.oldestSettledLagMs ?? 0), Number(b.oldestPendingLagMs ?? 0)),
          processed: b.processed,
          failed: b.failed,
        }),
      )
      .reverse(),
    failedGifts: data.adminFailedGifts.nodes,
    livekitFailures: data.adminLivekitFailures.nodes,
    hlsFailures: data.allPlaybackHealths.nodes.filter((p) => p.alerting),
    users: data.adminUsers.nodes,
  };
}

export async function banUser(userId: string, reason: string, opts: CallOptions): Promise<void> {
  await gql(
    `mutation Ban($id: UUID!, $r: String!) { banSiteUser(input: { userId: $id, reason: $r }) { result { rowId } } }`,
    { id: userId, r: reason },
    opts,
  );
}

export async function unbanUser(userId: string, reason: string, opts: CallOptions): Promise<void> {
  await gql(
    `mutation Unban($id: UUID!, $r: String) { unbanSiteUser(input: { userId: $id, reason: $r }) { result { rowId } } }`,
    { id: userId, r: reason || null },
    opts,
  );
}

export async function setRole(userId: string, role: string, opts: CallOptions): Promise<void> {
  await gql(
    `mutation Role($id: UUID!, $role: AppRole!) { setUserRole(input: { userId: $id, role: $role }) { result { rowId } } }`,
    { id: userId, role },
    opts,
  );
}

export async function grantCoins(userId: string, coins: number, reason: string, opts: CallOptions): Promise<void> {
  await gql(
    `mutation Grant($id: UUID!, $c: Int!, $r: String!) { grantCoins(input: { userId: $id, coins: $c, reason: $r }) { result { balance } } }`,
    { id: userId, c: coins, r: reason },
    opts,
  );
}
