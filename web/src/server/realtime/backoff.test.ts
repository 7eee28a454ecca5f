import { pino } from "pino";
import { expect, it } from "vitest";
import { backoffDelay, Outage, withTimeout } from "./backoff.ts";

it("backoff grows exponentially with jitter, capped", () => {
  for (let attempt = 0; attempt < 12; attempt++) {
    const cap = Math.min(2000, 100 * 2 ** attempt);
    for (let i = 0; i < 50; i++) {
      const d = backoffDelay(attempt, 100, 2000);
      expect(d).toBeGreaterThanOrEqual(cap / 2);
      expect(d).toBeLessThanOrEqual(cap);
    }
  }
  const spread = new Set(Array.from({ length: 20 }, () => backoffDelay(5, 100, 2000)));
  expect(spread.size).toBeGreaterThan(1);
});

it("an outage logs one line when it starts and one with its length when it ends", () => {
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: "debug" }, { write: (s: string) => lines.push(JSON.parse(s)) });
  const o = new Outage("database", log);
  o.ok();
  for (let i = 0; i < 100; i++) o.fail(new Error("connect ECONNREFUSED"), 100, 2000);
  expect(o.down).toBe(true);
  o.ok();
  o.ok();
  expect(lines.map((l) => [l.level, l.msg.replace(/[\d.]+ s$/, "N s")])).toEqual([
    [40, "database down: connect ECONNREFUSED; retrying with backoff (up to 2 s)"],
    [30, "database back after N s"],
  ]);
});

it("withTimeout rejects when the promise does not settle in time", async () => {
  await expect(withTimeout(new Promise(() => {}), 20, "probe")).rejects.toThrow("probe: no answer within 20 ms");
  await expect(withTimeout(Promise.resolve(7), 1000, "probe")).resolves.toBe(7);
});
