// Browser-side gifts: the catalogue, the reader's wallet, sending a gift with an idempotency key,
// the `gift` and `leaderboard` events of a stream (docs/realtime-protocol.md) and the broadcaster
// leaderboard. Both events are self-contained (sender, gift, quantity; the ranked list), so showing
// one costs no query. Prices, funds, fees and settlement are the database's rules.
import { ApiError, gql, newClientId } from "#lib/api.ts";
import type { Text } from "#lib/errors.ts";
import { type StreamEvent, sendFrame } from "#lib/realtime.ts";

/** The input's limit: the server's default gift_max_quantity (app_private.settings), which decides. */
export const MAX_QUANTITY = 1000;
export const TOAST_MS = 5000;
export const MAX_TOASTS = 5;

const fmt = new Intl.NumberFormat("en-US");
export const formatCoins = (n: number): string => fmt.format(n);

export interface Gift {
  rowId: string;
  slug: string;
  name: string;
  artUrl: string;
  coinPrice: number;
  sortOrder: number;
  active: boolean;
}

/** A user in a ranking by coins (a stream's top gifters, the broadcaster leaderboard). */
export interface Ranked {
  rank: number;
  userId: string;
  username: string;
  displayName: string;
  avatarUrl: string | null;
  coins: number;
  /** Gifts received (the broadcaster leaderboard only). */
  gifts?: number;
}

/** An on-screen announcement of a `gift` event. */
export interface Toast {
  id: number;
  sender: string;
  avatarUrl: string | null;
  gift: string;
  artUrl: string;
  quantity: number;
}

/** The `gift` event payload (db/src/gifts/send_gift.sql). */
interface GiftEvent {
  id: number;
  sender: { id: string; username: string; display_name: string; avatar_url: string | null };
  gift: { id: string; slug: string; name: string; art_url: string; coin_price: number };
  quantity: number;
  coins: number;
}

/** One entry of `top_gifters` in the `leaderboard` event payload (db/src/gifts/stream_leaderboard_event.sql). */
interface GifterEntry {
  rank: number;
  user_id: string;
  username: string;
  display_name: string;
  avatar_url: string | null;
  coins: number;
}

const CATALOGUE = `query GiftPanel($s: UUID!) {
  allGifts { nodes { rowId slug name artUrl coinPrice sortOrder active } }
  topGifters(streamId: $s, limit: 10) { rank userId username displayName avatarUrl coins } }`;

type RankedRow = Omit<Ranked, "coins" | "gifts"> & { coins: string; gifts?: string };
const fromRow = ({ coins, gifts, ...r }: RankedRow): Ranked => ({
  ...r,
  coins: Number(coins),
  ...(gifts === undefined ? {} : { gifts: Number(gifts) }),
});

/** The gifts on sale (in catalogue order) and the stream's current top gifters. */
export async function fetchCatalogue(streamId: string): Promise<{ gifts: Gift[]; topGifters: Ranked[] }> {
  const d = await gql<{ allGifts: { nodes: Gift[] }; topGifters: RankedRow[] | null }>(CATALOGUE, { s: streamId });
  return {
    gifts: d.allGifts.nodes.filter((g) => g.active).sort((a, b) => a.sortOrder - b.sortOrder || a.name.localeCompare(b.name)),
    topGifters: (d.topGifters ?? []).map(fromRow),
  };
}

/** The signed-in reader's coins (0 without a wallet yet). */
export async function fetchBalance(): Promise<number> {
  const d = await gql<{ myWallet: { balance: string } | null }>("query MyWallet { myWallet { balance } }");
  return d.myWallet ? Number(d.myWallet.balance) : 0;
}

/** What a batch of stream events means for the gift panel: gifts to announce, a new top-gifters list. */
export function giftEvents(events: StreamEvent[]): { toasts: Toast[]; topGifters: Ranked[] | null } {
  const toasts: Toast[] = [];
  let topGifters: Ranked[] | null = null;
  for (const e of events) {
    const p = e.payload;
    if (!p) continue;
    if (e.kind === "gift" && typeof p.id === "number" && p.sender && p.gift) {
      const g = p as unknown as GiftEvent;
      toasts.push({
        id: g.id,
        sender: g.sender.display_name || g.sender.username,
        avatarUrl: g.sender.avatar_url,
        gift: g.gift.name,
        artUrl: g.gift.art_url,
        quantity: g.quantity,
      });
    } else if (e.kind === "leaderboard" && Array.isArray(p.top_gifters)) {
      topGifters = (p.top_gifters as GifterEntry[]).map((x) => ({
        rank: x.rank,
        userId: x.user_id,
        username: x.username,
        displayName: x.display_name,
        avatarUrl: x.avatar_url,
        coins: Number(x.coins),
      }));
    }
  }
  return { toasts, topGifters };
}

/** A quantity the server accepts: a whole number from 1 to MAX_QUANTITY. */
export const clampQuantity = (q: number): number => (Number.isInteger(q) ? Math.min(MAX_QUANTITY, Math.max(1, q)) : 1);

export interface Receipt {
  quantity: number;
  coins: number;
  /** The sender's balance after the debit (null when the server does not say). */
  balance: number | null;
}

const SEND = `mutation SendGift($s: UUID!, $g: UUID!, $q: Int!, $k: String!) {
  sendGift(input: {streamId: $s, giftId: $g, quantity: $q, idempotencyKey: $k}) { result { balance coins quantity } } }`;

/**
 * Sends gifts (a `gift` frame on the stream's open broadcast socket, else the sendGift mutation),
 * each click with an idempotency key. A click whose answer was lost (network error)
 * keeps its key, so retrying the same gift and quantity returns the original receipt instead of
 * charging again; any answer from the server ends the key.
 */
export class GiftSender {
  private unsettled: { key: string; giftId: string; quantity: number } | null = null;

  async send(streamId: string, giftId: string, quantity: number): Promise<Receipt> {
    const u = this.unsettled;
    const key = u && u.giftId === giftId && u.quantity === quantity ? u.key : `gift-${newClientId()}`;
    this.unsettled = { key, giftId, quantity };
    try {
      const viaSocket = sendFrame(streamId, { type: "gift", gift_id: giftId, quantity, idempotency_key: key });
      if (viaSocket) {
        const r = (await viaSocket).receipt as { quantity: number; coins: number; balance: number | null };
        this.unsettled = null;
        return { quantity: r.quantity, coins: Number(r.coins), balance: r.balance == null ? null : Number(r.balance) };
      }
      const d = await gql<{ sendGift: { result: { balance: string | null; coins: string; quantity: number } } }>(SEND, {
        s: streamId,
        g: giftId,
        q: quantity,
        k: key,
      });
      this.unsettled = null;
      const r = d.sendGift.result;
      return { quantity: r.quantity, coins: Number(r.coins), balance: r.balance === null ? null : Number(r.balance) };
    } catch (e) {
      // INTERNAL (socket): the write's outcome is unknown, like a lost answer.
      if (!(e instanceof ApiError) || (e.answered && e.code !== "INTERNAL")) this.unsettled = null;
      throw e;
    }
  }
}

/** Words for a gift that could not be paid, with its price and the reader's coins (#lib/errors.ts). */
export const insufficientFunds = (quantity: number, gift: Gift | null, balance: number | null): Record<string, Text> => ({
  INSFD: `Not enough coins: ${quantity} × ${gift?.name ?? "gift"} costs ${formatCoins((gift?.coinPrice ?? 0) * quantity)} coins${
    balance !== null ? `, you have ${formatCoins(balance)}` : ""
  }.`,
});

export type Period = "day" | "week" | "month" | "all_time";

export const PERIODS: { id: Period; label: string }[] = [
  { id: "day", label: "Today" },
  { id: "week", label: "This week" },
  { id: "month", label: "This month" },
  { id: "all_time", label: "All time" },
];

const LEADERBOARD = `query Leaderboard($p: String!) { leaderboard(period: $p, limit: 50) { rank userId username displayName avatarUrl coins gifts } }`;

/** Top broadcasters by coins received in the current UTC period (read from settled stats). */
export async function fetchLeaderboard(period: Period): Promise<Ranked[]> {
  const d = await gql<{ leaderboard: RankedRow[] | null }>(LEADERBOARD, { p: period });
  return (d.leaderboard ?? []).map(fromRow);
}

/** Who a leaderboard ranks: broadcasters by coins received, or gifters by coins spent. */
export type Board = "broadcasters" | "gifters";

const GIFTER_LEADERBOARD = `query GifterLeaderboard($p: String!) { gifterLeaderboard(period: $p, limit: 50) { rank userId username displayName avatarUrl coins gifts } }`;

/** Top gifters by coins spent in the current UTC period (settled gifts, from gifter_stats). */
export async function fetchGifterLeaderboard(period: Period): Promise<Ranked[]> {
  const d = await gql<{ gifterLeaderboard: RankedRow[] | null }>(GIFTER_LEADERBOARD, { p: period });
  return (d.gifterLeaderboard ?? []).map(fromRow);
}

export const fetchBoard = (board: Board, period: Period): Promise<Ranked[]> =>
  board === "gifters" ? fetchGifterLeaderboard(period) : fetchLeaderboard(period);

/** A broadcaster's settled earnings in one current period. */
export interface Earning {
  period: Period;
  coins: number;
  earnedCoins: number;
  gifts: number;
}

const EARNINGS = `query Earnings($b: UUID!) {
  broadcasterEarnings(broadcasterId: $b) { nodes { period coins earnedCoins gifts } }
  topGiftersOfBroadcaster(broadcasterId: $b, limit: 10) { rank userId username displayName avatarUrl coins gifts } }`;

/** Today / this week / this month / all time (zeros for periods without gifts) and the top gifters. */
export async function fetchEarnings(broadcasterId: string): Promise<{ earnings: Earning[]; topGifters: Ranked[] }> {
  const d = await gql<{
    broadcasterEarnings: { nodes: { period: Period; coins: string; earnedCoins: string; gifts: string }[] };
    topGiftersOfBroadcaster: RankedRow[] | null;
  }>(EARNINGS, { b: broadcasterId });
  const by = new Map(d.broadcasterEarnings.nodes.map((n) => [n.period, n]));
  return {
    earnings: PERIODS.map(({ id }) => {
      const n = by.get(id);
      return { period: id, coins: Number(n?.coins ?? 0), earnedCoins: Number(n?.earnedCoins ?? 0), gifts: Number(n?.gifts ?? 0) };
    }),
    topGifters: (d.topGiftersOfBroadcaster ?? []).map(fromRow),
  };
}

/** Whether a batch of events credited this broadcaster (a `leaderboard` event): time to refetch earnings. */
export const creditsBroadcaster = (events: StreamEvent[], broadcasterId: string): boolean =>
  events.some((e) => e.kind === "leaderboard" && e.payload?.broadcaster_id === broadcasterId);
