// `npm run worker`: the worker alone (for a separate worker process/container).
import pg from "pg";
import { pino } from "pino";
import { ConfigError, loadConfig } from "../../web/src/server/config.ts";
import { openDatabase } from "../../web/src/server/database.ts";
import { startWorker } from "./index.ts";

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(e.message);
    process.exit(78);
  }
  throw e;
}
const logger = pino({ level: config.LOG_LEVEL, name: "worker" });
const db = await openDatabase(config, (m) => logger.info(m));
const pool = new pg.Pool({ connectionString: db.ownerUrl, max: config.WORKER_CONCURRENCY + 2 });
const runner = await startWorker({ pool, concurrency: config.WORKER_CONCURRENCY, log: (l, m) => logger[l](m) });
logger.info("worker started");
const stop = async () => {
  await runner.stop();
  await pool.end();
  await db.close();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
await runner.promise;
