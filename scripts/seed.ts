// npm run seed: load the demo data into the configured database (DATABASE_URL or the embedded one).
// Reads the config once (core/config.ts) and passes it down.

import { loadConfig } from "../core/config.ts";
import { openDatabase } from "../core/database.ts";
import { seedDemo } from "../db/seed.ts";

const config = loadConfig();
const db = await openDatabase(config, (m) => console.error(m));
try {
  await seedDemo(db.ownerUrl, (m) => console.error(m), { activity: config.SEED_DEMO_ACTIVITY });
} finally {
  await db.close();
}
