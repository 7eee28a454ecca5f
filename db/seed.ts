// Demo data: a broadcaster who is live, a few viewers, and an admin. Idempotent: users that exist are
// left alone. Runs as the database owner; passwords are hashed by the same bcrypt as register().
import pg from "pg";

export const DEMO_PASSWORD = "trollcity-demo";
export const DEMO_USERS = [
  { username: "trollking", role: "broadcaster", display: "Troll King" },
  { username: "alice", role: "viewer", display: "Alice" },
  { username: "bob", role: "viewer", display: "Bob" },
  { username: "carol", role: "viewer", display: "Carol" },
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
    `select app_private.issue_coins(u.id, $1, 'grant', 'demo-seed:' || u.username, 'demo seed')
       from app_public.users u where u.username = any($2)`,
    [DEMO_VIEWER_COINS, DEMO_USERS.filter((u) => u.role === "viewer").map((u) => u.username)],
  );
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
