// `npm start`: the whole app in one process (see app.ts). SIGINT/SIGTERM stop it cleanly.
import { pino } from "pino";
import { startApp } from "./app.ts";
import { ConfigError, loadConfig } from "./config.ts";

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(e.message);
    process.exit(78); // EX_CONFIG
  }
  throw e;
}
const logger = pino({ level: config.LOG_LEVEL, name: "trollcity" });
const app = await startApp(config, logger).catch((e: Error) => {
  logger.fatal({ err: e }, `could not start: ${e.message}`);
  process.exit(1);
});
// A plain line for people and scripts, whatever the log format.
console.log(`Troll City is running at ${app.url}`);

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info(`${signal}: shutting down`);
  const timer = setTimeout(() => process.exit(1), 10_000);
  timer.unref();
  await app.close();
  process.exit(0);
}
process.once("SIGINT", () => void stop("SIGINT"));
process.once("SIGTERM", () => void stop("SIGTERM"));
