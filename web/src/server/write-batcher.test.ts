// The group-commit batcher on its own (no database): what goes into a batch, what happens when a
// batch fails as a whole, backpressure, and that every request is answered exactly once.
import { describe, expect, it } from "vitest";
import { BusyError, WriteBatcher } from "./write-batcher.ts";

const dbError = (code: string) => Object.assign(new Error(`db said ${code}`), { code });

describe("WriteBatcher", () => {
  it("requests submitted together go out as one batch; the rest gather while it runs", async () => {
    const batches: number[][] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const b = new WriteBatcher<number, number>({
      name: "t",
      maxInFlight: 1,
      async execute(reqs) {
        batches.push(reqs);
        if (batches.length === 1) await gate;
        return reqs.map((x) => x * 10);
      },
    });
    const first = [1, 2, 3].map((x) => b.submit(x));
    await new Promise((r) => setImmediate(r));
    const second = [4, 5, 6, 7].map((x) => b.submit(x));
    await new Promise((r) => setTimeout(r, 5));
    expect(batches).toEqual([[1, 2, 3]]);
    expect(b.waiting).toBe(4);
    release();
    expect(await Promise.all([...first, ...second])).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5, 6, 7],
    ]);
  });

  it("splits at maxBatch and runs up to maxInFlight batches at once", async () => {
    const sizes: number[] = [];
    let running = 0;
    let most = 0;
    const b = new WriteBatcher<number, number>({
      name: "t",
      maxBatch: 3,
      maxInFlight: 2,
      async execute(reqs) {
        sizes.push(reqs.length);
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return reqs;
      },
    });
    const out = await Promise.all(Array.from({ length: 10 }, (_, i) => b.submit(i)));
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(sizes).toEqual([3, 3, 3, 1]);
    expect(most).toBe(2);
  });

  it("a batch the database refused as a whole is retried request by request: only the poison request fails", async () => {
    const calls: number[][] = [];
    const b = new WriteBatcher<number, string>({
      name: "t",
      async execute(reqs) {
        calls.push(reqs);
        if (reqs.includes(13)) throw dbError("23514");
        return reqs.map((x) => `ok ${x}`);
      },
    });
    const results = await Promise.allSettled([1, 13, 2].map((x) => b.submit(x)));
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as { code: string }).code))).toEqual([
      "ok 1",
      "23514",
      "ok 2",
    ]);
    expect(calls).toEqual([[1, 13, 2], [1], [13], [2]]);
  });

  it("a batch that failed without a database answer (the commit may have happened) is not retried", async () => {
    let calls = 0;
    const b = new WriteBatcher<number, number>({
      name: "t",
      async execute() {
        calls++;
        throw new Error("Connection terminated unexpectedly");
      },
    });
    const results = await Promise.allSettled([1, 2, 3].map((x) => b.submit(x)));
    expect(results.every((r) => r.status === "rejected")).toBe(true);
    expect(calls).toBe(1);
  });

  it("answers each request exactly once, even when the call returns the wrong number of results", async () => {
    const b = new WriteBatcher<number, number>({
      name: "t",
      async execute(reqs) {
        return reqs.length > 1 ? [1] : reqs;
      },
      rolledBack: () => true,
    });
    // Wrong count: treated as a failed batch, retried one by one.
    expect(await Promise.all([5, 6].map((x) => b.submit(x)))).toEqual([5, 6]);
  });

  it("a full queue refuses at once with BUSY (retry after 1 s) and recovers", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const b = new WriteBatcher<number, number>({
      name: "gifts",
      maxQueue: 2,
      maxInFlight: 1,
      async execute(reqs) {
        await gate;
        return reqs;
      },
    });
    const running = b.submit(0);
    await new Promise((r) => setImmediate(r));
    const queued = [b.submit(1), b.submit(2)];
    const refused = await b.submit(3).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BusyError);
    expect(refused).toMatchObject({ code: "BUSY" });
    expect(JSON.parse((refused as BusyError).detail)).toEqual({ retry_after: 1 });
    release();
    expect(await Promise.all([running, ...queued])).toEqual([0, 1, 2]);
    expect(await b.submit(4)).toBe(4);
  });

  it("close() waits for every queued and running request, then refuses new ones", async () => {
    const b = new WriteBatcher<number, number>({
      name: "t",
      maxInFlight: 1,
      async execute(reqs) {
        await new Promise((r) => setTimeout(r, 5));
        return reqs;
      },
    });
    const pending = [1, 2, 3].map((x) => b.submit(x));
    await b.close();
    expect(await Promise.all(pending)).toEqual([1, 2, 3]);
    await expect(b.submit(4)).rejects.toBeInstanceOf(BusyError);
  });
});
