// Viral mode end to end, in headless Chromium against the real server and a local ffmpeg HLS origin:
//  1. a stream switched to HLS (after the worker's check) plays in the viewer page through the
//     SQL-derived URL, and currentTime advances;
//  2. the origin starts answering 404 for playlists: the health check refuses to switch another stream;
//  3. the player whose stream broke mid-play falls back to the stage and the failure is recorded.
// Only fatal hls.js errors fail the test (non-fatal ones such as bufferSeekOverHole are normal).
import pg from "pg";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app.ts";
import { type Browser, launchBrowser } from "../support/browser.ts";
import { type HlsOrigin, removeGeneratedMedia, startHlsOrigin } from "../support/hls-origin.ts";

let origin: HlsOrigin;
let app: TestApp;
let browser: Browser;
let db: pg.Client;

beforeAll(async () => {
  origin = await startHlsOrigin();
  app = await startTestApp({ PLAYBACK_ORIGIN_URL: origin.url });
  db = new pg.Client({ connectionString: app.db.url });
  await db.connect();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await db?.end();
  await app?.stop();
  await origin?.close();
  await removeGeneratedMedia();
});

/** A live stream of a new broadcaster with an origin-hosted HLS source, asked to go viral. */
async function viralStream(name: string): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `with s as (insert into app_public.streams (broadcaster_id, title) values (tests.create_user($1, 'broadcaster'), $1) returning id)
     insert into app_private.stream_playback (stream_id, hls_provider, origin_path)
     select id, 'origin', '/live/' || $1 || '/index.m3u8' from s returning stream_id as id`,
    [name],
  );
  const id = rows[0]?.id ?? "";
  // The broadcaster asks for viral mode (pinned: the thresholds leave it alone with 0 viewers).
  await db.query("begin");
  await db.query("select tests.act_as(broadcaster_id) from app_public.streams where id = $1", [id]);
  await db.query("select app_public.request_viral_mode($1, 'hls')", [id]);
  await db.query("commit");
  return id;
}

async function state(id: string) {
  const { rows } = await db.query<{ mode: string; attempts: number; last_error: string | null; url: string }>(
    `select p.mode, p.attempts, p.last_error, app_public.streams_hls_url(s) as url
       from app_private.stream_playback p join app_public.streams s on s.id = p.stream_id where p.stream_id = $1`,
    [id],
  );
  return rows[0];
}

const attr = (page: Page, name: string) => page.locator("[data-testid=player]").getAttribute(name);
const currentTime = (page: Page) => page.locator("[data-testid=player-video]").evaluate((v) => (v as HTMLVideoElement).currentTime);

it("plays the SQL-derived HLS URL, refuses a broken origin, falls back and records the failure", async () => {
  // 1. Stream A goes viral once the worker has checked its URL.
  const a = await viralStream("stream_a");
  await expect.poll(async () => (await state(a))?.mode, { timeout: 20_000 }).toBe("hls");
  const derived = (await state(a))?.url;
  expect(derived).toBe(`${origin.url}/live/stream_a/index.m3u8`);

  const page = await browser.context.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(`${app.url}/streams/${a}`);
  await expect.poll(() => attr(page, "data-path"), { timeout: 15_000 }).toBe("hls");
  expect(await attr(page, "data-hls-url")).toBe(derived);
  await expect.poll(() => currentTime(page), { timeout: 20_000 }).toBeGreaterThan(0.5);
  const t1 = await currentTime(page);
  await expect.poll(() => currentTime(page), { timeout: 10_000 }).toBeGreaterThan(t1 + 1);
  expect(await attr(page, "data-fatal-errors")).toBe("");
  expect(await page.getByTestId("latency-mode").innerText()).toBe("standard (HLS)");
  expect(origin.requests).toContain("/live/stream_a/index.m3u8");
  const segmentsBefore = origin.requests.filter((r) => r.startsWith("/live/stream_a/seg")).length;
  expect(segmentsBefore).toBeGreaterThan(0);

  // 2. The origin loses its playlists: stream B's check fails and B stays on the stage.
  origin.setMode("playlist404");
  const b = await viralStream("stream_b");
  await expect.poll(async () => (await state(b))?.attempts, { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
  expect(await state(b)).toMatchObject({ mode: "stage", last_error: "playlist: HTTP 404" });
  const events = await db.query("select 1 from app_private.stream_events where stream_id = $1 and kind = 'stream_state'", [b]);
  expect(events.rowCount).toBe(0);

  // 3. Stream A's player, mid-play, hits the 404 on its next playlist reload: it falls back to the
  //    stage (unavailable here: no LiveKit, signed out — shown, not fatal) and reports the failure.
  await expect.poll(() => attr(page, "data-path"), { timeout: 30_000 }).toBe("stage");
  expect(await attr(page, "data-fatal-errors")).toMatch(/levelLoadError|manifestLoadError/);
  expect(await page.getByTestId("player-message").innerText()).toMatch(/HLS failed|Stage unavailable/);
  await expect
    .poll(
      async () =>
        (
          await db.query<{ n: number }>(
            "select count(*)::int as n from app_private.playback_failure_reports where stream_id = $1 and path = 'hls' and url = $2",
            [a, derived],
          )
        ).rows[0]?.n,
      { timeout: 10_000 },
    )
    .toBeGreaterThanOrEqual(1);
  expect(pageErrors).toEqual([]);
  await page.close();
});
