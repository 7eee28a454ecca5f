// Maps keyed by client input stay bounded: 10,000 random stream ids (a `/broadcast?stream=<uuid>`
// flood) are refused with 4404, and the hub's maps (streams, presence, remembered unknown ids) do not
// grow with them: the sizes are read from /metrics (trollcity_realtime_tracked_streams{map}).
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import WebSocket from "ws";
import { goLive, makeUser, sendChat, viewer } from "../integration/realtime.helpers.ts";
import { startTestApp, type TestApp } from "../support/app.ts";

const FLOOD = 10_000;
const CONCURRENCY = 40;
/** The hub's default cap on remembered unknown stream ids (MISSING_MAX in realtime/hub.ts). */
const MISSING_MAX = 1000;

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ RELAY_TICK_MS: "50", RUN_WEB: "false", BROADCAST_MAX_PER_IP: "200" });
});
afterAll(async () => {
  await app?.stop();
});

async function sizes(): Promise<Record<string, number>> {
  await new Promise((r) => setTimeout(r, 2100)); // /metrics is cached for 2 s
  const body = await (await fetch(`${app.url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of body.matchAll(/^trollcity_realtime_tracked_streams\{map="(\w+)"\} (\d+)$/gm)) out[m[1] as string] = Number(m[2]);
  return out;
}

/** Open a broadcast socket for `streamId`; resolves with the close code (or "hello" when it was accepted). */
function tryJoin(streamId: string): Promise<number | string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${app.url.replace(/^http/, "ws")}/broadcast?stream=${streamId}`);
    const t = setTimeout(() => {
      ws.terminate();
      resolve("timeout");
    }, 10_000);
    ws.on("message", () => {
      clearTimeout(t);
      ws.close();
      resolve("hello");
    });
    ws.on("close", (code) => {
      clearTimeout(t);
      resolve(code);
    });
    ws.on("error", () => {});
  });
}

it("10,000 random stream ids: every one refused, the hub's maps stay bounded, a real stream still works", async () => {
  const host = await makeUser(app, "bm_host", { role: "broadcaster" });
  const streamId = await goLive(app, host, "Bounded maps");
  const v = await viewer(app.url, streamId);
  const codes = new Map<number | string, number>();
  const t0 = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < FLOOD) {
        next++;
        const code = await tryJoin(randomUUID());
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    }),
  );
  console.log(
    `[bounded-maps] ${FLOOD} unknown stream ids in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(Object.fromEntries(codes))}`,
  );
  expect(codes.get(4404)).toBe(FLOOD);
  const s = await sizes();
  console.log(`[bounded-maps] map sizes after the flood: ${JSON.stringify(s)}`);
  expect(s.missing).toBeLessThanOrEqual(MISSING_MAX);
  expect(s.streams).toBe(1);
  expect(s.presence).toBe(1);
  // The real stream is unaffected.
  await sendChat(app, host, streamId, "still here");
  await v.waitFor(() => v.chatBodies().includes("still here"), "chat after the flood");
  v.close();
}, 120_000);
