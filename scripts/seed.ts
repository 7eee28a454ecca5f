// npm run seed: load the demo data into the configured database (DATABASE_URL or the embedded one).
import { seedDemo } from "../db/seed.ts";
import { loadConfig } from "../web/src/server/config.ts";
import { openDatabase } from "../web/src/server/database.ts";

const config = loadConfig();
const db = await openDatabase(config, (m) => console.error(m));
try {
  await seedDemo(db.ownerUrl, (m) => console.error(m));
} finally {
  await db.close();
}
