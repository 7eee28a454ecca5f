// The demo plays on a default start (no external service): the server makes an HLS test stream once
// with ffmpeg, serves it at /demo-hls/, points the origin at itself and asks the demo stream onto HLS;
// the worker's health check switches it, and a signed-out browser plays it (hls.js, currentTime
// advances). Screenshots of the player: test-results/video/.
import { mkdirSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DEMO_SEGMENT_SECONDS, DEMO_SEGMENTS, demoPlaylist } from "../../web/src/server/features/demo-hls.ts";
import { startTestApp, type TestApp } from "../support/app.ts";
import { type Browser, launchBrowser } from "../support/browser.ts";

const SHOTS = "test-results/video";
let app: TestApp;
let browser: Browser;
let db: pg.Client;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // What `npm start` does on a new embedded database: demo data, no LiveKit, no origin, no Mux.
  app = await startTestApp({ SEED_DEMO: "always", DEMO_HLS: "auto" });
  db = new pg.Client({ connectionString: app.db.url });
  await db.connect();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await db?.end();
  await app?.stop();
});

it("the demo playlist loops forever as a live stream, with a discontinuity at each wrap", () => {
  const durations = Array.from({ length: DEMO_SEGMENTS }, () => DEMO_SEGMENT_SECONDS);
  const later = demoPlaylist(durations, 0, 1000 * DEMO_SEGMENT_SECONDS * (DEMO_SEGMENTS + 3));
  expect(later).toMatch(/#EXT-X-MEDIA-SEQUENCE:13\n#EXT-X-DISCONTINUITY-SEQUENCE:1\n/);
  expect(later).not.toContain("#EXT-X-ENDLIST");
  const wrap = demoPlaylist(durations, 0, 1000 * DEMO_SEGMENT_SECONDS * (DEMO_SEGMENTS - 3));
  expect(wrap).toMatch(/seg009\.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:2\.000000,\nseg000\.ts/);
});

it("a signed-out newcomer sees the demo stream play (HLS from the app itself)", async () => {
  const { rows } = await db.query<{ id: string }>(
    "select s.id from app_public.streams s join app_public.users u on u.id = s.broadcaster_id where u.username = 'trollking' and s.status = 'live'",
  );
  const id = rows[0]?.id ?? "";
  expect(id).not.toBe("");
  await expect
    .poll(async () => (await db.query("select mode from app_private.stream_playback where stream_id = $1", [id])).rows[0]?.mode, {
      timeout: 30_000,
    })
    .toBe("hls");
  const url = (await db.query<{ url: string }>("select app_public.streams_hls_url(s) as url from app_public.streams s where id = $1", [id]))
    .rows[0]?.url;
  expect(url).toBe(`${app.url}/demo-hls/demo/index.m3u8`);

  const page = await browser.context.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(`${app.url}/streams/${id}`);
  const player = page.locator("[data-testid=player]");
  await expect.poll(() => player.getAttribute("data-path"), { timeout: 15_000 }).toBe("hls");
  expect(await player.getAttribute("data-hls-url")).toBe(url);
  const currentTime = () => page.locator("[data-testid=player-video]").evaluate((v) => (v as HTMLVideoElement).currentTime);
  await expect.poll(currentTime, { timeout: 20_000 }).toBeGreaterThan(0.5);
  await page.screenshot({ path: `${SHOTS}/demo-player-1.png` });
  const t1 = await currentTime();
  await expect.poll(currentTime, { timeout: 15_000 }).toBeGreaterThan(t1 + 2);
  await player.screenshot({ path: `${SHOTS}/demo-player-2.png` });
  const size = await page
    .locator("[data-testid=player-video]")
    .evaluate((v) => [(v as HTMLVideoElement).videoWidth, (v as HTMLVideoElement).videoHeight, (v as HTMLVideoElement).paused]);
  expect(size).toEqual([640, 360, false]);
  expect(await player.getAttribute("data-fatal-errors")).toBe("");
  expect(pageErrors).toEqual([]);
  await page.close();
}, 90_000);
