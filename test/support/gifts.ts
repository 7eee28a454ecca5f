// Helpers for gift-economy tests: a world of broadcasters (live streams), funded senders and a
// catalogue, built as the owner; sending a gift as a user exactly as the API does (role + claims in
// one transaction); tokens for GraphQL; the SQL audit.
import { SignJWT } from "jose";
import type pg from "pg";
import { TEST_JWT_SECRET } from "./app.ts";

export interface GiftWorld {
  casters: { id: string; username: string; streamId: string }[];
  senders: { id: string; username: string; coins: number }[];
  gifts: { id: string; slug: string; price: number }[];
  adminId: string;
}

export interface WorldOptions {
  prefix: string;
  casters: number;
  /** Coins issued to each sender, by index. */
  senderCoins: number[];
  gifts?: { slug: string; price: number }[];
}

export async function createGiftWorld(pool: pg.Pool, opts: WorldOptions): Promise<GiftWorld> {
  const c = await pool.connect();
  try {
    await c.query("begin");
    const casters: GiftWorld["casters"] = [];
    for (let i = 0; i < opts.casters; i++) {
      const username = `${opts.prefix}_c${i}`;
      const { rows } = await c.query<{ id: string }>("select tests.create_user($1, 'broadcaster') as id", [username]);
      const id = rows[0]?.id ?? "";
      const s = await c.query<{ id: string }>("insert into app_public.streams (broadcaster_id, title) values ($1, $2) returning id", [
        id,
        `${username} live`,
      ]);
      casters.push({ id, username, streamId: s.rows[0]?.id ?? "" });
    }
    const senders: GiftWorld["senders"] = [];
    const { rows: created } = await c.query<{ id: string; username: string; coins: number }>(
      `select tests.create_user(format('%s_s%s', $1::text, i)) as id, format('%s_s%s', $1::text, i) as username, coins
         from unnest($2::int[]) with ordinality as t(coins, i)`,
      [opts.prefix, opts.senderCoins],
    );
    for (const s of created) {
      if (s.coins > 0) await c.query("select app_private.issue_coins($1, $2, 'grant', $3)", [s.id, s.coins, `test:${s.username}`]);
      senders.push({ id: s.id, username: s.username, coins: s.coins });
    }
    const gifts: GiftWorld["gifts"] = [];
    for (const g of opts.gifts ?? [
      { slug: `${opts.prefix}-rose`, price: 1 },
      { slug: `${opts.prefix}-heart`, price: 5 },
      { slug: `${opts.prefix}-crown`, price: 25 },
    ]) {
      const { rows } = await c.query<{ id: string }>(
        "insert into app_public.gifts (slug, name, coin_price, art_url) values ($1, $1, $2, '/gifts/test.svg') returning id",
        [g.slug.toLowerCase().replace(/[^a-z0-9_-]/g, "-"), g.price],
      );
      gifts.push({ id: rows[0]?.id ?? "", slug: g.slug, price: g.price });
    }
    const { rows: admin } = await c.query<{ id: string }>("select tests.create_user($1, 'admin') as id", [`${opts.prefix}_admin`]);
    await c.query("commit");
    return { casters, senders, gifts, adminId: admin[0]?.id ?? "" };
  } catch (e) {
    await c.query("rollback");
    throw e;
  } finally {
    c.release();
  }
}

export interface GiftReceipt {
  gift_ledger_id: string;
  coins: string;
  balance: string;
  replayed: boolean;
}

export type SendResult = { ok: true; receipt: GiftReceipt } | { ok: false; code: string; message: string };

/** send_gift as `userId`, the way PostGraphile/PostgREST run it (role and claims local to the transaction). */
export async function sendGiftAs(
  pool: pg.Pool,
  userId: string,
  streamId: string,
  giftId: string,
  quantity = 1,
  key: string | null = null,
): Promise<SendResult> {
  const c = await pool.connect();
  try {
    await c.query("begin");
    await c.query("select set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)", [
      JSON.stringify({ role: "authenticated", sub: userId }),
    ]);
    const { rows } = await c.query<GiftReceipt>("select * from app_public.send_gift($1, $2, $3, $4)", [streamId, giftId, quantity, key]);
    await c.query("commit");
    const receipt = rows[0];
    if (!receipt) throw new Error("send_gift returned no row");
    return { ok: true, receipt };
  } catch (e) {
    await c.query("rollback").catch(() => {});
    const err = e as { code?: string; message: string };
    const code = err.code ?? "";
    if (code.length !== 5 || /^[0-9]/.test(code)) throw e;
    return { ok: false, code, message: err.message };
  } finally {
    c.release();
  }
}

export async function tokenFor(userId: string): Promise<string> {
  return await new SignJWT({ sub: userId, role: "authenticated", aud: "trollcity" })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(new TextEncoder().encode(TEST_JWT_SECRET));
}

export async function auditViolations(pool: pg.Pool): Promise<{ invariant: string; detail: string }[]> {
  const { rows } = await pool.query<{ invariant: string; detail: string }>("select * from app_private.gift_audit()");
  return rows;
}

export async function pendingCount(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>("select count(*) as n from app_private.gift_settlement_queue");
  return Number(rows[0]?.n ?? 0);
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs: number,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Independent bookkeeping from the client side: what each account must hold if every accepted gift settled exactly once. */
export function expectedBalances(world: GiftWorld, accepted: { senderId: string; casterId: string; coins: number }[], feeBps: number) {
  const balances = new Map<string, number>();
  for (const s of world.senders) balances.set(s.id, s.coins);
  for (const c of world.casters) balances.set(c.id, 0);
  let fees = 0;
  for (const a of accepted) {
    const fee = Math.floor((a.coins * feeBps) / 10000);
    fees += fee;
    balances.set(a.senderId, (balances.get(a.senderId) ?? 0) - a.coins);
    balances.set(a.casterId, (balances.get(a.casterId) ?? 0) + a.coins - fee);
  }
  return { balances, fees };
}
