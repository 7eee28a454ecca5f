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

export async function seedDemo(ownerUrl: string, log: (m: string) => void = () => {}): Promise<void> {
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
    await client.query("commit");
    log(created ? `demo seed: ${created} users created (password "${DEMO_PASSWORD}")` : "demo seed: already present");
  } catch (e) {
    await client.query("rollback");
    throw e;
  } finally {
    await client.end();
  }
}
