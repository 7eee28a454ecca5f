// Coins: the pack catalogue, the wallet history, and what the checkout redirect tells the reader.
// Buying itself is a plain form post to the server's /checkout (it opens a Stripe Checkout Session).
import { ApiError, type CallOptions, gql } from "#lib/api.ts";

export interface CoinPack {
  slug: string;
  name: string;
  coins: number;
  priceCents: number;
  currency: string;
}

export interface WalletEntry {
  rowId: string;
  createdAt: string;
  kind: string;
  amount: number;
  description: string;
}

export async function loadWallet(opts: CallOptions): Promise<{ balance: number; packs: CoinPack[]; history: WalletEntry[] }> {
  const data = await gql<{
    myWallet: { balance: string } | null;
    allCoinPacks: { nodes: CoinPack[] };
    myCoinTransactions: { nodes: (Omit<WalletEntry, "amount"> & { amount: string })[] };
  }>(
    `query Wallet {
      myWallet { balance }
      allCoinPacks(orderBy: [SORT_ASC], first: 20) { nodes { slug name coins priceCents currency } }
      myCoinTransactions(first: 50) { nodes { rowId createdAt kind amount description } }
    }`,
    {},
    opts,
  );
  return {
    balance: Number(data.myWallet?.balance ?? 0),
    packs: data.allCoinPacks.nodes,
    history: data.myCoinTransactions.nodes.map((e) => ({ ...e, amount: Number(e.amount) })),
  };
}

export const price = (p: Pick<CoinPack, "priceCents" | "currency">): string =>
  new Intl.NumberFormat("en", { style: "currency", currency: p.currency }).format(p.priceCents / 100);

/** The `?error=CODE` the checkout route redirects back with, as an ApiError for #lib/errors.ts. */
export const checkoutError = (code: string | null): ApiError | null =>
  code && /^[A-Z0-9]{4,6}$/.test(code) ? new ApiError(code, code, 0) : null;
