// Logs a person can read: pino's JSON lines when stdout is a file, a pipe or a log collector, and
// pino-pretty's coloured, human-readable form when stdout is a terminal. LOG_LEVEL tunes both;
// LOG_FORMAT=json|pretty overrides the guess.
import { type Logger, pino } from "pino";
import pretty from "pino-pretty";
import type { Config } from "./config.ts";

export type { Logger } from "pino";

export function createLogger(config: Pick<Config, "LOG_LEVEL" | "LOG_FORMAT">, name: string): Logger {
  const format = config.LOG_FORMAT ?? (process.stdout.isTTY ? "pretty" : "json");
  if (format === "json") return pino({ level: config.LOG_LEVEL, name });
  // Synchronous: no worker thread, and nothing is lost when the process exits right after a line.
  return pino({ level: config.LOG_LEVEL, name }, pretty({ sync: true, colorize: process.stdout.isTTY, ignore: "pid,hostname" }));
}

/**
 * For something that runs again and again (a relay tick, a loop watch, a reconnect): log when it
 * starts failing (warn) and when it works again (info), not on every failed attempt (those are debug).
 */
export function stateLog(log: Logger, what: string) {
  let failingSince: number | null = null;
  let failures = 0;
  return {
    ok(): void {
      if (failingSince === null) return;
      log.info({ failures, seconds: Math.round((Date.now() - failingSince) / 1000) }, `${what}: working again`);
      failingSince = null;
      failures = 0;
    },
    fail(e: Error): void {
      failures++;
      if (failingSince === null) {
        failingSince = Date.now();
        log.warn({ err: e }, `${what} failing: ${e.message} (logged again when it recovers)`);
      } else log.debug({ err: e }, `${what} still failing: ${e.message}`);
    },
  };
}
