// Group commit (issue 14): requests that arrive while a batch is running wait for the next one, so N
// concurrent writes cost one call and one commit instead of N. Nothing waits on a timer when the
// database is idle: a request that finds a free slot goes out at the end of the current event-loop
// turn (with whatever else arrived in that turn), or after `lingerMs` if set; while `maxInFlight`
// batches are running, requests gather (up to `maxBatch` per batch) and leave when a slot frees.
//
// Every request is answered exactly once, and only after its batch's call returned (for a write, after
// its commit). The queue is bounded: past `maxQueue` waiting requests, submit() refuses at once with
// BUSY (503, retry after 1 s) instead of queueing without bound. A batch whose call fails as a whole
// with an error the database reported (it rolled back: deadlock, timeout, a bug in one request's
// data) is retried request by request, so one poison request gets its own error and the others their
// outcomes. A call that fails without a database answer (connection lost: the commit may or may not
// have happened) is not retried: its requests get an internal error, and a client retrying with its
// idempotency key gets the original receipt if it did commit.

export interface BatcherOptions<Req, Res> {
  name: string;
  /** Runs one batch: one result per request, in order. Throwing fails the batch as a whole. */
  execute: (requests: Req[]) => Promise<Res[]>;
  maxBatch?: number;
  maxQueue?: number;
  maxInFlight?: number;
  /** Extra wait before a batch leaves when a slot is free (0: end of the event-loop turn). */
  lingerMs?: number;
  /** Whether a failed batch is known to have changed nothing (then it is retried request by request). */
  rolledBack?: (error: unknown) => boolean;
  /** Called once per batch that ran (size, milliseconds, whether it failed as a whole). */
  onBatch?: (size: number, ms: number, failed: boolean) => void;
}

interface Pending<Req, Res> {
  request: Req;
  resolve: (value: Res) => void;
  reject: (error: unknown) => void;
  settled: boolean;
}

export class BusyError extends Error {
  readonly code = "BUSY";
  readonly detail = JSON.stringify({ retry_after: 1 });
  constructor(what: string) {
    super(`the server is busy (${what} queue full); retry in a second`);
  }
}

/** A database error carries a SQLSTATE: the database answered, and the failed statement rolled back. */
export function reportedByDatabase(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code);
}

export class WriteBatcher<Req, Res> {
  readonly name: string;
  private readonly execute: (requests: Req[]) => Promise<Res[]>;
  private readonly maxBatch: number;
  private readonly maxQueue: number;
  private readonly maxInFlight: number;
  private readonly lingerMs: number;
  private readonly rolledBack: (error: unknown) => boolean;
  private readonly onBatch?: (size: number, ms: number, failed: boolean) => void;
  private queue: Pending<Req, Res>[] = [];
  private inFlight = 0;
  private scheduled = false;
  private closed = false;
  private idle: (() => void)[] = [];

  constructor(opts: BatcherOptions<Req, Res>) {
    this.name = opts.name;
    this.execute = opts.execute;
    this.maxBatch = opts.maxBatch ?? 256;
    this.maxQueue = opts.maxQueue ?? 10_000;
    this.maxInFlight = opts.maxInFlight ?? 2;
    this.lingerMs = opts.lingerMs ?? 0;
    this.rolledBack = opts.rolledBack ?? reportedByDatabase;
    this.onBatch = opts.onBatch;
  }

  /** Requests waiting for a batch (not counting those in running batches). */
  get waiting(): number {
    return this.queue.length;
  }

  submit(request: Req): Promise<Res> {
    if (this.closed) return Promise.reject(new BusyError(`${this.name}: shutting down`));
    if (this.queue.length >= this.maxQueue) return Promise.reject(new BusyError(this.name));
    return new Promise<Res>((resolve, reject) => {
      this.queue.push({ request, resolve, reject, settled: false });
      this.schedule();
    });
  }

  /** Stop taking requests and wait for every queued and running batch to be answered. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.queue.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    const go = () => {
      this.scheduled = false;
      this.dispatch();
    };
    if (this.lingerMs > 0) setTimeout(go, this.lingerMs);
    else setImmediate(go);
  }

  private dispatch(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        if (this.queue.length > 0) this.schedule();
        else if (this.inFlight === 0) for (const f of this.idle.splice(0)) f();
      });
    }
  }

  private async run(batch: Pending<Req, Res>[]): Promise<void> {
    const t0 = performance.now();
    try {
      const results = await this.execute(batch.map((p) => p.request));
      if (results.length !== batch.length) throw new Error(`${this.name}: ${results.length} results for ${batch.length} requests`);
      this.onBatch?.(batch.length, performance.now() - t0, false);
      for (const [i, p] of batch.entries()) settle(p, true, results[i] as Res);
    } catch (e) {
      this.onBatch?.(batch.length, performance.now() - t0, true);
      if (batch.length === 1 || !this.rolledBack(e)) {
        for (const p of batch) settle(p, false, e);
        return;
      }
      // The batch rolled back as a whole: each request alone, so each gets its own outcome.
      for (const p of batch) {
        const t1 = performance.now();
        try {
          const results = await this.execute([p.request]);
          if (results.length !== 1) throw new Error(`${this.name}: ${results.length} results for 1 request`);
          this.onBatch?.(1, performance.now() - t1, false);
          settle(p, true, results[0] as Res);
        } catch (e1) {
          this.onBatch?.(1, performance.now() - t1, true);
          settle(p, false, e1);
        }
      }
    }
  }
}

function settle<Req, Res>(p: Pending<Req, Res>, ok: boolean, value: unknown): void {
  if (p.settled) return;
  p.settled = true;
  if (ok) p.resolve(value as Res);
  else p.reject(value);
}
