// The web app for everyone who uses it (issue 12), in headless Chromium with several browser contexts
// against the real server (worker included) and the LiveKit double, on the full demo seed:
// a signed-out viewer watches the seeded stream (chat, top gifters; no periodic poll); the broadcaster
// ends it in the studio (the viewer's page says so from the broadcast socket), goes live again with a
// category and thumbnail, publishes the camera; alice asks to join, he invites her, she accepts and goes on stage, he
// revokes and her publish UI disappears; a moderator mutes bob, who is told so when he chats; a gift
// moves the studio's earnings and the gifter leaderboard within a settlement interval; the
// reconnecting banner shows while the broadcast socket is down. Every page is checked with axe-core
// (no serious or critical violation) and saved at 1280 px and 390 px (no horizontal scrolling) in
// test-results/screenshots/.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import pg from "pg";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app.ts";
import { CHROMIUM } from "../support/browser.ts";
import { type LivekitDouble, startLivekitDouble } from "../support/livekit-double.ts";

const SHOTS = join(import.meta.dirname, "../../test-results/screenshots");

let double: LivekitDouble;
let app: TestApp;
let db: pg.Client;
let browser: Browser;
let seededStream: string;
let liveStream: string;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  double = await startLivekitDouble();
  app = await startTestApp({
    SEED_DEMO: "always",
    SEED_DEMO_ACTIVITY: "true",
    PRESENCE_FLUSH_MS: "300",
    LIVEKIT_URL: double.url,
    LIVEKIT_API_KEY: double.apiKey,
    LIVEKIT_API_SECRET: double.apiSecret,
  });
  db = new pg.Client({ connectionString: app.db.url });
  await db.connect();
  seededStream = await one<string>(
    "select s.id as v from app_public.streams s join app_public.users u on u.id = s.broadcaster_id where u.username = 'trollking' and s.status = 'live'",
  );
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"],
  });
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await db?.end();
  await app?.stop();
  await double?.close();
});

async function one<T>(sql: string, params: unknown[] = []): Promise<T> {
  const { rows } = await db.query<{ v: T }>(sql, params);
  if (!rows[0]) throw new Error(`nothing for ${sql}`);
  return rows[0].v;
}

/** A browser context of its own (its own session cookie), signed in as `username` or not at all. */
async function pageAs(username: string | null, path: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  if (username) {
    const r = await app.gql<{ login: { result: string } }>(
      'mutation($u: String!) { login(input: {usernameOrEmail: $u, password: "trollcity-demo"}) { result } }',
      { u: username },
    );
    const token = r.data?.login.result;
    if (!token) throw new Error(`login ${username}: ${JSON.stringify(r.errors)}`);
    // The session cookie, as after signing in (the page hands its token to the API client).
    await context.addCookies([{ name: "tc_session", value: token, url: app.url }]);
  }
  const page = await context.newPage();
  page.on("pageerror", (e) => pageErrors.push(`${username ?? "anon"}: ${e.message}`));
  await page.goto(`${app.url}${path}`);
  return page;
}

/** axe-core on the page as it is: no serious or critical violation. */
async function expectAccessible(page: Page, what: string) {
  const r = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]).analyze();
  const bad = r.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(bad, `axe on ${what}`).toEqual([]);
}

/** Screenshots at desktop and phone width; the phone must not scroll sideways. */
async function shoot(page: Page, name: string) {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
    await page.waitForTimeout(300);
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(scrollWidth, `${name} at ${width} px scrolls sideways`).toBeLessThanOrEqual(width);
    await page.screenshot({ path: join(SHOTS, `${name}-${width}.png`), fullPage: true });
    if (width === 390) await expectAccessible(page, `${name} at 390 px`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

const graphqlRequests = (page: Page) => {
  const seen: string[] = [];
  page.on("request", (r) => {
    if (r.url().endsWith("/graphql")) seen.push(r.postData() ?? "");
  });
  return seen;
};

describe("studio and viewer", () => {
  it("a signed-out viewer watches the seeded stream: title, chat, top gifters, and no periodic poll", async () => {
    const page = await pageAs(null, `/streams/${seededStream}`);
    const requests = graphqlRequests(page);
    await page.getByTestId("stream-title").getByText("Troll City grand opening").waitFor({ timeout: 20_000 });
    await page.locator("[data-testid=chat-message]", { hasText: "Welcome to the grand opening" }).waitFor({ timeout: 20_000 });
    // The spam message mod_mia deleted in the seed is not shown.
    expect(await page.locator("[data-testid=chat-message]", { hasText: "spam.example" }).count()).toBe(0);
    await page.locator("[data-testid=top-gifter][data-username=alice]").waitFor({ timeout: 20_000 });
    await page.getByTestId("chat-signin").waitFor();
    await page.getByTestId("stream-viewers").waitFor({ timeout: 10_000 });
    await expectAccessible(page, "stream page (signed out)");
    await shoot(page, "stream-signed-out");
    // Playback state and viewer counts come from the socket: no GraphQL request in 12 s of watching.
    requests.length = 0;
    await page.waitForTimeout(12_000);
    expect(requests).toEqual([]);
    await page.close();
  }, 60_000);

  it("the home page and both leaderboards by period", async () => {
    const page = await pageAs("carol", "/");
    await page.locator("[data-testid=live-streams] li", { hasText: "Troll City grand opening" }).waitFor({ timeout: 20_000 });
    expect(await page.locator("[data-testid=live-streams] img").getAttribute("src")).toBe("/thumbnails/grand-opening.svg");
    await expectAccessible(page, "home");
    await shoot(page, "home");
    await page.goto(`${app.url}/leaderboard`);
    await page.locator("[data-testid=leaderboard-entry][data-username=trollking]").waitFor({ timeout: 20_000 });
    await expectAccessible(page, "leaderboard (broadcasters)");
    await shoot(page, "leaderboard-broadcasters");
    await page.getByRole("radio", { name: "Gifters" }).check();
    for (const period of ["Today", "This week", "This month", "All time"]) {
      await page.getByRole("radio", { name: period }).check();
      await page.locator(`[data-testid=leaderboard-board][data-board=gifters][data-period]`).waitFor();
      // Seed: on the live stream alice 2 crowns and 10 roses (210), bob 3 troll hats (75), carol 5
      // hearts (25); on queen_bee's rehearsal (DEMO_SEED_GIFTS) alice 10 roses and a crown (110), bob 3
      // hearts (15), carol 2 troll hats (50).
      await expect
        .poll(() => page.locator("[data-testid=leaderboard-entry]").first().getAttribute("data-username"), { timeout: 10_000 })
        .toBe("alice");
    }
    expect(await page.locator("[data-testid=leaderboard-entry][data-username=alice]").innerText()).toContain("320");
    await expectAccessible(page, "leaderboard (gifters)");
    await shoot(page, "leaderboard-gifters");
    // The studio tells a viewer it is for broadcasters.
    await page.goto(`${app.url}/studio`);
    await page.getByTestId("studio-not-broadcaster").waitFor({ timeout: 10_000 });
    await expectAccessible(page, "studio (viewer)");
    await shoot(page, "studio-viewer");
    await page.close();
  }, 60_000);

  it("the broadcaster ends the stream and goes live in the studio; invite, accept, revoke removes alice's publish UI", async () => {
    const viewer = await pageAs(null, `/streams/${seededStream}`);
    await viewer.getByTestId("stream-viewers").waitFor({ timeout: 20_000 });

    const king = await pageAs("trollking", "/studio");
    const details = king.getByTestId("studio-details");
    await expect.poll(() => details.getAttribute("data-live"), { timeout: 20_000 }).toBe("true");
    // Seeded earnings: 310 coins today.
    await expect
      .poll(() => king.locator("[data-testid=earning][data-period=day]").getAttribute("data-coins"), { timeout: 10_000 })
      .toBe("310");
    await king.locator("[data-testid=moderation-log] li[data-action=delete_message]").waitFor({ timeout: 10_000 });
    await expectAccessible(king, "studio (live)");
    await shoot(king, "studio-live");

    // End it: the viewer's page learns it from the broadcast socket.
    await king.getByTestId("end-stream").click();
    await king.getByTestId("end-stream-confirm").click();
    await expect.poll(() => details.getAttribute("data-live"), { timeout: 10_000 }).toBe("false");
    await expect.poll(() => viewer.getByTestId("stream-status").innerText(), { timeout: 10_000 }).toBe("Ended");
    await expect.poll(() => viewer.getByTestId("player-message").innerText(), { timeout: 10_000 }).toContain("ended");
    await viewer.close();

    // A bad thumbnail is refused with the database's reason; then go live with good details.
    await king.fill("#stream-title", "Studio test stream");
    await king.selectOption("#stream-category", "music");
    await king.fill("#stream-thumbnail", "javascript:alert(1)");
    await king.getByTestId("go-live").click();
    await expect
      .poll(() => king.getByTestId("studio-error").innerText(), { timeout: 10_000 })
      .toMatch(/live, but .*thumbnail URL must be/i);
    await expect.poll(() => details.getAttribute("data-live"), { timeout: 10_000 }).toBe("true");
    await king.fill("#stream-thumbnail", "/thumbnails/grand-opening.svg");
    await king.getByTestId("save-details").click();
    liveStream = String(await king.getByTestId("studio").getAttribute("data-stream-id"));
    expect(liveStream).toMatch(/^[0-9a-f-]{36}$/);
    await expect
      .poll(() => one<string>("select category || ' ' || thumbnail_url as v from app_public.streams where id = $1", [liveStream]), {
        timeout: 5000,
      })
      .toBe("music /thumbnails/grand-opening.svg");

    // Camera: devices listed after the preview, publishing takes the database's grant.
    await king.getByTestId("camera-start").click();
    await expect.poll(() => king.locator("#camera-select option").count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await king.getByTestId("camera-publish").click();
    await expect
      .poll(() => king.getByTestId("studio-camera").getAttribute("data-state"), { timeout: 10_000 })
      .toMatch(/^(connecting|retrying|live)$/);

    // Invite alice for 5 minutes; she accepts on the stream page and goes on stage.
    const alice = await pageAs("alice", `/streams/${liveStream}`);
    await expect.poll(() => alice.getByTestId("stage").getAttribute("data-loaded"), { timeout: 15_000 }).toBe("true");
    // Alice asks to join; the studio shows her request; inviting her by name answers it.
    await alice.getByTestId("request-seat").click();
    await alice
      .getByTestId("cancel-seat-request")
      .waitFor({ timeout: 15_000 })
      .catch(async (e: Error) => {
        // Say what the page showed (an error note? still asking?) instead of only the timeout.
        await alice.screenshot({ path: join(SHOTS, "studio-seat-request-failed.png"), fullPage: true }).catch(() => {});
        const stage = await alice
          .getByTestId("stage")
          .innerText()
          .catch(() => "?");
        throw new Error(`${e.message}\nalice's stage panel said: ${stage.replace(/\s+/g, " ").slice(0, 400)}`);
      });
    await king.locator("[data-testid=seat-request][data-username=alice]").waitFor({ timeout: 15_000 });
    await king.fill("input[name=invite-username]", "alice");
    await king.selectOption("select[name=seat-duration]", { label: "5 minutes" });
    await king.getByTestId("stage-invite").getByRole("button", { name: "Invite" }).click();
    const kingSeat = king.locator("[data-testid=stage-seat][data-username=alice]");
    await expect.poll(() => kingSeat.getAttribute("data-status"), { timeout: 15_000 }).toBe("invited");
    await expect.poll(() => king.getByTestId("seat-request").count(), { timeout: 15_000 }).toBe(0);
    await alice.getByTestId("accept-seat").click({ timeout: 10_000 });
    await alice.getByTestId("stage-guest").waitFor({ timeout: 15_000 });
    await expect.poll(() => kingSeat.getAttribute("data-status"), { timeout: 15_000 }).toBe("active");
    await expect.poll(() => kingSeat.getByTestId("seat-countdown").innerText(), { timeout: 15_000 }).toMatch(/ends in [45]:\d\d/);
    await alice.getByTestId("go-on-stage").click();
    await alice.getByTestId("stage-publisher").waitFor({ timeout: 10_000 });
    await expectAccessible(alice, "stream page (guest on stage)");
    await shoot(alice, "stream-guest");
    await shoot(king, "studio-stage");

    // Revoke: alice's publisher and her "go on stage" button disappear, and she is told why.
    await kingSeat.getByTestId("revoke-reason").fill("thanks for joining");
    await kingSeat.getByTestId("revoke").click();
    await expect.poll(() => alice.getByTestId("stage-publisher").count(), { timeout: 5000 }).toBe(0);
    expect(await alice.getByTestId("go-on-stage").count()).toBe(0);
    expect(await alice.getByTestId("stage-guest").count()).toBe(0);
    await expect.poll(() => alice.getByTestId("stage-notice").innerText(), { timeout: 5000 }).toMatch(/revoked: thanks for joining/);
    await alice.close();
    await king.close();
  }, 120_000);

  it("a moderator mutes bob for 10 minutes; bob is told he is muted when he chats", async () => {
    const mia = await pageAs("mod_mia", `/streams/${liveStream}`);
    const bob = await pageAs("bob", `/streams/${liveStream}`);
    await mia.getByTestId("moderation").waitFor({ timeout: 15_000 });
    await bob.getByTestId("chat-input").waitFor({ timeout: 15_000 });
    await mia.fill("#mod-username", "bob");
    await mia.selectOption("#mod-duration", { label: "10 minutes" });
    await mia.fill("#mod-reason", "calm down");
    await mia.getByTestId("mod-mute").click();
    await expect.poll(() => mia.getByTestId("moderation-done").innerText(), { timeout: 10_000 }).toBe("Muted bob (10 minutes).");
    await mia.locator("[data-testid=mutes] li[data-username=bob]").waitFor({ timeout: 5000 });
    await mia.locator("[data-testid=moderation-log] li[data-action=mute]", { hasText: "calm down" }).waitFor({ timeout: 5000 });
    await expectAccessible(mia, "stream page (moderator)");
    await shoot(mia, "stream-moderator");

    await bob.fill("[data-testid=chat-input]", "can I still talk?");
    await bob.press("[data-testid=chat-input]", "Enter");
    const error = bob.getByTestId("chat-error");
    await error.waitFor({ timeout: 10_000 });
    expect(await error.getAttribute("data-code")).toBe("MUTED");
    expect(await error.innerText()).toContain("You are muted in this chat.");
    await mia.close();
    await bob.close();
  }, 60_000);

  it("a gift moves the studio's earnings and the gifter leaderboard within a settlement interval", async () => {
    const king = await pageAs("trollking", "/studio");
    const day = king.locator("[data-testid=earning][data-period=day]");
    await expect.poll(() => day.getAttribute("data-coins"), { timeout: 20_000 }).toBe("310");
    const carol = await pageAs("carol", `/streams/${liveStream}`);
    await carol.locator("[data-testid=gift-balance]").waitFor({ timeout: 20_000 });
    await carol.locator("[data-testid=gift-option][data-slug=crown]").click();
    await carol.locator("[data-testid=gift-quantity]").fill("3");
    const t0 = Date.now();
    await carol.locator("[data-testid=gift-send]").click();
    await carol.getByTestId("gift-sent").waitFor({ timeout: 10_000 });
    // Every viewer sees the gift land (the animated toast), carol included.
    await carol.getByTestId("gift-toast").waitFor({ timeout: 5000 });
    await expect.poll(() => day.getAttribute("data-coins"), { timeout: 15_000, interval: 250 }).toBe("610");
    const seconds = (Date.now() - t0) / 1000;
    console.info(`studio: earnings moved ${seconds.toFixed(1)} s after the gift`);
    expect(seconds).toBeLessThan(15);
    await king.locator("[data-testid=studio-top-gifter][data-username=carol]").waitFor({ timeout: 5000 });

    const board = await pageAs(null, "/leaderboard");
    await board.getByRole("radio", { name: "Gifters" }).check();
    await board.getByRole("radio", { name: "Today" }).check();
    // Carol: 5 hearts (25) + 2 troll hats (50, the rehearsal) + 3 crowns (300) = 375, now first.
    await expect
      .poll(() => board.locator("[data-testid=leaderboard-entry]").first().getAttribute("data-username"), { timeout: 10_000 })
      .toBe("carol");
    expect(await board.locator("[data-testid=leaderboard-entry][data-username=carol]").innerText()).toContain("375");
    await king.close();
    await carol.close();
    await board.close();
  }, 60_000);

  it("the reconnecting banner shows while the broadcast socket is down and goes when it is back", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    let refuse = false;
    const open: { close(o?: { code?: number; reason?: string }): Promise<void> }[] = [];
    await context.routeWebSocket(/\/broadcast/, (ws) => {
      if (refuse) {
        void ws.close({ code: 4000, reason: "test: down" });
        return;
      }
      ws.connectToServer();
      open.push(ws);
    });
    const page = await context.newPage();
    await page.goto(`${app.url}/streams/${liveStream}`);
    await page.getByTestId("stream-viewers").waitFor({ timeout: 20_000 });
    expect(await page.getByTestId("reconnecting-banner").count()).toBe(0);
    refuse = true;
    for (const ws of open.splice(0)) await ws.close({ code: 4000, reason: "test: dropped" });
    await page.getByTestId("reconnecting-banner").waitFor({ timeout: 5000 });
    await expectAccessible(page, "stream page (reconnecting)");
    await shoot(page, "stream-reconnecting");
    refuse = false;
    await expect.poll(() => page.getByTestId("reconnecting-banner").count(), { timeout: 20_000 }).toBe(0);
    await page.close();
  }, 60_000);

  it("without LiveKit the studio previews the camera and says viewers cannot see it", async () => {
    const bare = await startTestApp({ SEED_DEMO: "always" });
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      contexts.push(context);
      const r = await bare.gql<{ login: { result: string } }>(
        'mutation { login(input: {usernameOrEmail: "trollking", password: "trollcity-demo"}) { result } }',
      );
      await context.addCookies([{ name: "tc_session", value: String(r.data?.login.result), url: bare.url }]);
      const page = await context.newPage();
      page.on("pageerror", (e) => pageErrors.push(`bare: ${e.message}`));
      await page.goto(`${bare.url}/studio`);
      await page.getByTestId("camera-publish").click({ timeout: 20_000 });
      await page.getByTestId("livekit-not-configured").waitFor({ timeout: 10_000 });
      await expect.poll(() => page.getByTestId("studio-camera").getAttribute("data-state"), { timeout: 10_000 }).toBe("preview");
      await expectAccessible(page, "studio (no LiveKit)");
      await shoot(page, "studio-no-livekit");
      await page.close();
    } finally {
      await bare.stop();
    }
  }, 90_000);

  it("no page threw", () => {
    expect(pageErrors).toEqual([]);
  });
});
