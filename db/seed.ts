// Demo data: a broadcaster who is live, a few viewers, and an admin. Idempotent: users that exist are
// left alone. Runs as the database owner; passwords are hashed by the same bcrypt as register().
import pg from "pg";

export const DEMO_PASSWORD = "trollcity-demo";
export const DEMO_USERS = [
  { username: "trollking", role: "broadcaster", display: "Troll King" },
  { username: "alice", role: "viewer", display: "Alice" },
  { username: "bob", role: "viewer", display: "Bob" },
  { username: "carol", role: "viewer", display: "Carol" },
  { username: "queen_bee", role: "broadcaster", display: "Troll Queen" },
  { username: "mod_mia", role: "moderator", display: "Mia (mod)" },
  { username: "admin", role: "admin", display: "Admin" },
] as const;

/**
 * `activity`: also make the pages meaningful at once (the live stream's category and thumbnail, a
 * few chat messages, settled gifts for earnings and leaderboards, a moderation log entry). The
 * test suites seed without it, so their numbers start from zero.
 */
export async function seedDemo(ownerUrl: string, log: (m: string) => void = () => {}, opts: { activity?: boolean } = {}): Promise<void> {
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    await client.query("begin");
    let created = 0;
    for (const u of DEMO_USERS) {
      const { rows } = await client.query<{ id: string; created: boolean }>(
        `with ins as (
           insert into app_public.users (username, display_name, role)
           values ($1, $2, $3)
           on conflict do nothing returning id)
         select id, true as created from ins
         union all select id, false from app_public.users where lower(username) = lower($1)
         limit 1`,
        [u.username, u.display, u.role],
      );
      const row = rows[0];
      if (!row?.created) continue;
      created++;
      await client.query(
        `insert into app_private.user_secrets (user_id, email, password_hash)
         values ($1, $2, public.crypt($3, public.gen_salt('bf', 10)))`,
        [row.id, `${u.username}@demo.trollcity.invalid`, DEMO_PASSWORD],
      );
    }
    await client.query(
      `insert into app_public.streams (broadcaster_id, title)
       select id, 'Troll City grand opening' from app_public.users u where username = 'trollking'
          and not exists (select 1 from app_public.streams s where s.broadcaster_id = u.id and s.status = 'live')`,
    );
    await seedGifts(client);
    if (opts.activity) await seedActivity(client);
    await seedWeb(client);
    await seedDemoPlayback(client);
    await client.query("commit");
    log(created ? `demo seed: ${created} users created (password "${DEMO_PASSWORD}")` : "demo seed: already present");
  } catch (e) {
    await client.query("rollback");
    throw e;
  } finally {
    await client.end();
  }
}

/** Where the demo stream's HLS lives on the origin (features/demo-hls.ts serves it at /demo-hls). */
export const DEMO_HLS_PATH = "/demo/index.m3u8";

/**
 * The demo stream plays the demo HLS: its source is the origin's DEMO_HLS_PATH, pinned to HLS and asked
 * to switch (the worker's health check switches it once the playlist answers). Idempotent: a stream
 * whose playback was set up otherwise is left alone.
 */
export async function seedDemoPlayback(db: Pick<pg.ClientBase, "query">): Promise<void> {
  const { rows } = await db.query<{ ok: boolean }>("select to_regclass('app_private.stream_playback') is not null as ok");
  if (!rows[0]?.ok) return;
  await db.query(
    `with demo as (
       select s.id from app_public.streams s join app_public.users u on u.id = s.broadcaster_id
        where u.username = 'trollking' and s.status = 'live' and s.title = 'Troll City grand opening')
     insert into app_private.stream_playback (stream_id, hls_provider, origin_path, pinned)
     select id, 'origin', $1, true from demo
     on conflict (stream_id) do nothing`,
    [DEMO_HLS_PATH],
  );
  await db.query(
    `select app_private.request_transition(p.stream_id, 'hls', 'request', null)
       from app_private.stream_playback p join app_public.streams s on s.id = p.stream_id
      where s.status = 'live' and s.title = 'Troll City grand opening' and p.hls_provider = 'origin' and p.origin_path = $1
        and p.mode = 'stage' and p.pending is null`,
    [DEMO_HLS_PATH],
  );
}

/** The gift catalogue, and starting coins for the demo viewers (issued once: keyed by username). */
export const DEMO_GIFTS = [
  { slug: "rose", name: "Rose", price: 1, sort: 10 },
  { slug: "heart", name: "Heart", price: 5, sort: 20 },
  { slug: "troll-hat", name: "Troll Hat", price: 25, sort: 30 },
  { slug: "crown", name: "Crown", price: 100, sort: 40 },
  { slug: "rocket", name: "Rocket", price: 500, sort: 50 },
  { slug: "castle", name: "Troll Castle", price: 1000, sort: 60 },
] as const;
export const DEMO_VIEWER_COINS = 5000;

async function seedGifts(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ ok: boolean }>("select to_regclass('app_public.gifts') is not null as ok");
  if (!rows[0]?.ok) return; // the gifts migration is not applied in this database
  for (const g of DEMO_GIFTS) {
    await client.query(
      `insert into app_public.gifts (slug, name, coin_price, art_url, sort_order) values ($1, $2, $3, $4, $5)
       on conflict (slug) do nothing`,
      [g.slug, g.name, g.price, `/gifts/${g.slug}.svg`, g.sort],
    );
  }
  await client.query(
    `select app_private.issue_coins(u.id, $1, 'grant', 'demo-seed:' || u.username, 'Demo coins')
       from app_public.users u where u.username = any($2)`,
    [DEMO_VIEWER_COINS, DEMO_USERS.filter((u) => u.role === "viewer").map((u) => u.username)],
  );
}

/** The coin pack catalogue the wallet page sells (Stripe Checkout). */
export const DEMO_COIN_PACKS = [
  { slug: "starter", name: "Starter", coins: 100, price: 99, sort: 10 },
  { slug: "popular", name: "Popular", coins: 550, price: 499, sort: 20 },
  { slug: "big", name: "Big spender", coins: 1200, price: 999, sort: 30 },
  { slug: "royal", name: "Troll royalty", coins: 6500, price: 4999, sort: 40 },
] as const;

/** A demo purchase (wallet history) and the demo gifts to queen_bee's rehearsal (batch logs, history). */
export const DEMO_PURCHASE = { username: "alice", coins: 550 } as const;
export const DEMO_SEED_GIFTS = [
  { username: "alice", slug: "rose", quantity: 10 },
  { username: "alice", slug: "crown", quantity: 1 },
  { username: "bob", slug: "heart", quantity: 3 },
  { username: "carol", slug: "troll-hat", quantity: 2 },
] as const;

/** A demo viewer's balance right after the seed: the starting coins, the purchase, minus the gifts. */
export function demoSeedBalance(username: string): number {
  const spent = DEMO_SEED_GIFTS.filter((g) => g.username === username).reduce(
    (sum, g) => sum + g.quantity * (DEMO_GIFTS.find((d) => d.slug === g.slug)?.price ?? 0),
    0,
  );
  return DEMO_VIEWER_COINS + (DEMO_PURCHASE.username === username ? DEMO_PURCHASE.coins : 0) - spent;
}

/** Run one statement as a demo user (the API functions read the caller from request.jwt.claims). */
async function asUser<T extends pg.QueryResultRow>(client: pg.Client, username: string, sql: string, params: unknown[] = []): Promise<T[]> {
  await client.query(
    `select set_config('request.jwt.claims', json_build_object('sub', id, 'role', 'authenticated')::text, true)
       from app_public.users where username = $1`,
    [username],
  );
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.query("select set_config('request.jwt.claims', '', true)");
  }
}

/** Gifts on the live demo stream: [sender, gift slug, quantity], each sent once (idempotency key). */
export const DEMO_STREAM_GIFTS = [
  ["alice", "crown", 2],
  ["bob", "troll-hat", 3],
  ["carol", "heart", 5],
  ["alice", "rose", 10],
] as const;

const DEMO_CHAT = [
  ["trollking", "Welcome to the grand opening of Troll City!"],
  ["alice", "Hi everyone, first time here"],
  ["mod_mia", "Be kind, trolls. Gifts go straight to the host."],
  ["bob", "That crown was epic"],
] as const;

async function seedActivity(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ id: string }>(
    `select s.id from app_public.streams s join app_public.users u on u.id = s.broadcaster_id
      where u.username = 'trollking' and s.status = 'live' order by s.started_at desc limit 1`,
  );
  const streamId = rows[0]?.id;
  if (!streamId) return;
  const { rows: cols } = await client.query<{ ok: boolean }>(
    "select exists (select 1 from pg_attribute where attrelid = 'app_public.streams'::regclass and attname = 'category') as ok",
  );
  if (cols[0]?.ok)
    await client.query(
      `update app_public.streams set category = coalesce(category, 'just_chatting'),
            thumbnail_url = coalesce(thumbnail_url, '/thumbnails/grand-opening.svg') where id = $1`,
      [streamId],
    );
  // Chat and the moderation log: once per stream (its moderation log is empty until then).
  const { rows: logged } = await client.query<{ n: number }>(
    "select count(*)::int as n from app_public.moderation_actions where stream_id = $1",
    [streamId],
  );
  if ((logged[0]?.n ?? 0) === 0) {
    for (const [user, body] of DEMO_CHAT) await asUser(client, user, "select app_public.send_chat_message($1, $2)", [streamId, body]);
    const [spam] = await asUser<{ id: string }>(client, "bob", "select (app_public.send_chat_message($1, $2)).id", [
      streamId,
      "cheap coins at spam.example!!!",
    ]);
    if (spam) await asUser(client, "mod_mia", "select app_public.delete_chat_message($1, 'spam')", [spam.id]);
  }
  for (const [i, [user, slug, quantity]] of DEMO_STREAM_GIFTS.entries()) {
    await asUser(client, user, "select app_public.send_gift($1, (select id from app_public.gifts where slug = $2), $3, $4)", [
      streamId,
      slug,
      quantity,
      `demo-seed:gift:${i}`,
    ]);
  }
  // Settled now, so earnings and leaderboards show them on the first page load.
  await client.query("select app_private.process_gift_ledger_batch()");
}

/**
 * What the web app's own pages show right after `npm start`: coin packs, a purchase and a few gifts in
 * the viewers' wallet histories (the worker settles the gifts within seconds, which writes the
 * settlement batch logs the admin chart draws and credits queen_bee), and a moderation log entry.
 * Idempotent: the gifts carry idempotency keys, the purchase an event id, the mute runs once.
 */
async function seedWeb(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ ok: boolean }>("select to_regclass('app_public.coin_packs') is not null as ok");
  if (!rows[0]?.ok) return;
  for (const p of DEMO_COIN_PACKS) {
    await client.query(
      `insert into app_public.coin_packs (slug, name, coins, price_cents, currency, sort) values ($1, $2, $3, $4, 'USD', $5)
       on conflict (slug) do nothing`,
      [p.slug, p.name, p.coins, p.price, p.sort],
    );
  }
  await client.query(
    `select app_private.purchase_coins('demo', 'demo-seed-' || u.username || '-purchase', u.id, $2, 499, 'USD', '{"demo": true}')
       from app_public.users u where u.username = $1`,
    [DEMO_PURCHASE.username, DEMO_PURCHASE.coins],
  );
  // Gifts for the wallet histories, the settlement batches and the leaderboard go to queen_bee's
  // rehearsal, which then ends (trollking's live stream starts with no gifts, which the gift e2e
  // tests rely on). Once: only when queen_bee has no stream yet.
  const { rows: queen } = await client.query<{ id: string; streams: number }>(
    `select u.id, (select count(*)::int from app_public.streams s where s.broadcaster_id = u.id) as streams
       from app_public.users u where u.username = 'queen_bee'`,
  );
  if (queen[0] && queen[0].streams === 0) {
    const { rows: rehearsal } = await client.query<{ id: string }>(
      "insert into app_public.streams (broadcaster_id, title) values ($1, 'Troll Queen rehearsal') returning id",
      [queen[0].id],
    );
    const rehearsalId = rehearsal[0]?.id;
    for (const { username, slug, quantity } of DEMO_SEED_GIFTS) {
      await asUser(client, username, "select app_public.send_gift($1, (select id from app_public.gifts where slug = $2), $3, $4)", [
        rehearsalId,
        slug,
        quantity,
        `demo-seed-${username}-${slug}`,
      ]);
    }
    await asUser(client, "queen_bee", "select app_public.end_stream($1)", [rehearsalId]);
  }
  const { rows: stream } = await client.query<{ id: string }>(
    `select s.id from app_public.streams s join app_public.users u on u.id = s.broadcaster_id
      where u.username = 'trollking' and s.status = 'live' order by s.created_at limit 1`,
  );
  const streamId = stream[0]?.id;
  if (!streamId) return;
  const { rows: logged } = await client.query("select 1 from app_public.moderation_actions where stream_id = $1 limit 1", [streamId]);
  if (logged.length === 0) {
    await asUser(
      client,
      "mod_mia",
      "select app_public.mute_user($1, (select id from app_public.users where username = 'carol'), 300, 'demo: spamming the chat')",
      [streamId],
    );
  }
}
