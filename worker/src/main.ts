// `npm run worker`: the worker alone (for a separate worker process/container). Reads the config once
// and passes it down; imports only core/ and this package.
import pg from "pg";
import { type Config, ConfigError, loadConfig } from "../../core/config.ts";
import { OWNER_POOL_TIMEOUTS, openDatabase } from "../../core/database.ts";
import { livekitSettings } from "../../core/livekit/config.ts";
import { createLogger } from "../../core/logger.ts";
import { playbackOutbound } from "../../core/outbound.ts";
import { muxSettings } from "../../core/video/mux.ts";
import { startWorker } from "./index.ts";

let config: Config;
try {
  config = loadConfig();
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(e.message);
    process.exit(78); // EX_CONFIG
  }
  throw e;
}
const logger = createLogger(config, "worker");
const db = await openDatabase(config, (m) => logger.info(m));
const pool = new pg.Pool({ connectionString: db.ownerUrl, max: config.WORKER_CONCURRENCY + 2, ...OWNER_POOL_TIMEOUTS });
const runner = await startWorker({
  pool,
  concurrency: config.WORKER_CONCURRENCY,
  livekit: livekitSettings(config),
  outbound: playbackOutbound(config),
  mux: muxSettings(config),
  logger,
});
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
