// Backoff for loops whose peer (the database, the LISTEN connection) can go away: exponential delay
// with jitter while it is down, one log line when it goes down and one when it comes back (with how
// long it was gone), instead of a warning on every tick.
import type { Logger } from "pino";

/** Delay before retry number `attempt` (0-based): base·2^attempt capped at max, "equal jitter" (half fixed, half random). */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(cap / 2 + Math.random() * (cap / 2));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Reject after `ms` unless `p` settles first. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Up/down state of one peer as seen by one loop. */
export class Outage {
  private since: number | null = null;
  private failures = 0;
  private readonly what: string;
  private readonly log: Logger;
  private readonly quiet: boolean;

  /** `quiet`: log at debug level (another loop already reports the same peer). */
  constructor(what: string, log: Logger, opts: { quiet?: boolean } = {}) {
    this.what = what;
    this.log = log;
    this.quiet = opts.quiet ?? false;
  }

  get down(): boolean {
    return this.since !== null;
  }

  /** Milliseconds since it went down (0 when up). */
  downForMs(): number {
    return this.since === null ? 0 : Date.now() - this.since;
  }

  /** A failed attempt: logs the first one of an outage; returns how long to wait before the next. */
  fail(e: unknown, baseMs: number, maxMs: number): number {
    if (this.since === null) {
      this.since = Date.now();
      const msg = `${this.what} down: ${(e as Error)?.message ?? String(e)}; retrying with backoff (up to ${maxMs / 1000} s)`;
      if (this.quiet) this.log.debug({ err: e }, msg);
      else this.log.warn({ err: e }, msg);
    }
    return backoffDelay(this.failures++, baseMs, maxMs);
  }

  /** A successful attempt: logs the end of an outage with its length. */
  ok(): void {
    if (this.since === null) return;
    const ms = Date.now() - this.since;
    this.since = null;
    this.failures = 0;
    const msg = `${this.what} back after ${(ms / 1000).toFixed(1)} s`;
    if (this.quiet) this.log.debug({ outage_ms: ms }, msg);
    else this.log.info({ outage_ms: ms }, msg);
  }
}
