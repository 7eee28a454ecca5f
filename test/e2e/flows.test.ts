// The end-to-end flows of issue 12, in headless Chromium against the real server (with its worker),
// Stripe played by test/support/stripe-double.ts and LiveKit by test/support/livekit-double.ts:
//  (a) two browser contexts: a new user signs up, buys coins through Stripe Checkout and gifts on
//      trollking's stream; trollking's /studio earnings and the /leaderboard move within one
//      settlement interval (10 s; 20 s allowed);
//  (b) an admin bans (site-wide, /admin) a user who is on stage: their publish UI goes and the ban
//      holds.
// Screenshots go to test-results/screenshots/.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_PASSWORD } from "../../db/seed.ts";
import { startTestApp, type TestApp } from "../support/app.ts";
import { CHROMIUM } from "../support/browser.ts";
import { type LivekitDouble, startLivekitDouble } from "../support/livekit-double.ts";
import { type StripeDouble, startStripeDouble, TEST_STRIPE_SECRET_KEY, TEST_STRIPE_WEBHOOK_SECRET } from "../support/stripe-double.ts";

const SHOTS = join(process.cwd(), "test-results/screenshots");
let app: TestApp;
let stripe: StripeDouble;
let livekit: LivekitDouble;
let browser: Browser;
let db: pg.Client;
let streamId: string;
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stripe = await startStripeDouble();
  livekit = await startLivekitDouble();
  app = await startTestApp({
    SEED_DEMO: "always",
    RUN_WORKER: "true",
    STRIPE_SECRET_KEY: TEST_STRIPE_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET: TEST_STRIPE_WEBHOOK_SECRET,
    STRIPE_API_BASE: stripe.url,
    LIVEKIT_URL: livekit.url,
    LIVEKIT_API_KEY: livekit.apiKey,
    LIVEKIT_API_SECRET: livekit.apiSecret,
  });
  stripe.webhookUrl = `${app.url}/webhooks/stripe`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"],
  });
  db = new pg.Client({ connectionString: app.db.url });
  await db.connect();
  const { rows } = await db.query<{ id: string }>(
    "select s.id from app_public.streams s join app_public.users u on u.id = s.broadcaster_id where u.username = 'trollking' and s.status = 'live'",
  );
  streamId = String(rows[0]?.id);
}, 120_000);

afterAll(async () => {
  await db?.end();
  await browser?.close();
  await app?.stop();
  await stripe?.close();
  await livekit?.close();
});

async function freshPage(name: string): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => pageErrors.push(`${name}: ${e.message}`));
  return page;
}

async function signIn(page: Page, username: string) {
  await page.goto(`${app.url}/login`);
  await page.fill("input[name=username]", username);
  await page.fill("input[name=password]", DEMO_PASSWORD);
  await page.click("main button[type=submit]");
  await page.locator("[data-testid=header-name]").waitFor({ timeout: 20_000 });
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `flows-${name}.png`), fullPage: true });

describe("issue 12 flows", () => {
  it("(a) sign up, buy coins, gift on trollking's stream: studio earnings and the leaderboard move within a settlement interval", async () => {
    const king = await freshPage("trollking");
    await signIn(king, "trollking");
    await king.goto(`${app.url}/studio`);
    const day = king.locator("[data-testid=earning][data-period=day]");
    await day.waitFor({ timeout: 20_000 });
    const before = Number(await day.getAttribute("data-coins"));

    const fan = await freshPage("fan");
    const name = `fan${Date.now() % 100000}`;
    await fan.goto(`${app.url}/signup`);
    await fan.fill("input[name=username]", name);
    await fan.fill("input[name=email]", `${name}@example.test`);
    await fan.fill("input[name=password]", "correct-horse-1");
    await fan.fill("input[name=password2]", "correct-horse-1");
    await Promise.all([fan.waitForURL(`${app.url}/wallet`), fan.click("button[type=submit]")]);
    await fan.click("[data-testid=buy-starter]");
    await fan.waitForURL((u) => u.href.startsWith(stripe.url));
    await Promise.all([fan.waitForURL(`${app.url}/wallet?checkout=success`), fan.click("button[type=submit]")]);
    await expect.poll(() => fan.locator("[data-testid=header-balance]").innerText(), { timeout: 10_000 }).toContain("100");
    await shot(fan, "a-wallet");

    await fan.goto(`${app.url}/streams/${streamId}`);
    await fan.locator("[data-testid=gift-balance]").waitFor({ timeout: 20_000 });
    await fan.locator("[data-testid=chat-viewer-count]").waitFor({ timeout: 20_000 });
    await fan.locator("[data-testid=gift-option][data-slug=crown]").click();
    await fan.locator("[data-testid=gift-quantity]").fill("1");
    const t0 = Date.now();
    await fan.locator("[data-testid=gift-send]").click();
    await fan.getByTestId("gift-sent").waitFor({ timeout: 10_000 });
    expect(Number(await fan.locator("[data-testid=gift-balance]").getAttribute("data-balance"))).toBe(0);
    await shot(fan, "a-gift-sent");

    await expect.poll(async () => Number(await day.getAttribute("data-coins")), { timeout: 20_000, interval: 250 }).toBe(before + 100);
    const seconds = (Date.now() - t0) / 1000;
    console.info(`flows: studio earnings moved ${seconds.toFixed(1)} s after the gift`);
    expect(seconds).toBeLessThan(20);
    await king.locator(`[data-testid=studio-top-gifter][data-username=${name}]`).waitFor({ timeout: 5000 });
    await shot(king, "a-studio");

    // The leaderboard (read from the settled stats): the new gifter is ranked today with 100 coins.
    const board = await freshPage("board");
    await board.goto(`${app.url}/leaderboard`);
    await board.getByRole("radio", { name: "Gifters" }).check();
    await board.getByRole("radio", { name: "Today" }).check();
    const entry = board.locator(`[data-testid=leaderboard-entry][data-username=${name}]`);
    await entry.waitFor({ timeout: 10_000 });
    expect(await entry.innerText()).toContain("100");
    await board.getByRole("radio", { name: "Broadcasters" }).check();
    await board.locator("[data-testid=leaderboard-entry][data-username=trollking]").waitFor({ timeout: 10_000 });
    await shot(board, "a-leaderboard");
    for (const p of [king, fan, board]) await p.context().close();
  }, 90_000);

  it("(b) an admin bans a user who is on stage: their publish UI goes", async () => {
    // trollking seats alice (as the UI would), alice goes on stage in her page.
    await db.query("begin");
    await db.query("select tests.act_as(id) from app_public.users where username = 'trollking'");
    const { rows } = await db.query<{ seat: string }>(
      "select (app_public.invite_to_seat($1, (select id from app_public.users where username = 'alice'))).id as seat",
      [streamId],
    );
    await db.query("commit");
    await db.query("begin");
    await db.query("select tests.act_as(id) from app_public.users where username = 'alice'");
    await db.query("select app_public.accept_seat($1)", [rows[0]?.seat]);
    await db.query("commit");

    const alice = await freshPage("alice");
    await signIn(alice, "alice");
    await alice.goto(`${app.url}/streams/${streamId}`);
    await alice.getByTestId("go-on-stage").click({ timeout: 20_000 });
    await alice.getByTestId("stage-publisher").waitFor({ timeout: 10_000 });
    await shot(alice, "b-on-stage");

    const admin = await freshPage("admin");
    await signIn(admin, "admin");
    await admin.goto(`${app.url}/admin?q=alice`);
    await admin.fill("[data-testid=ban-reason-alice]", "e2e: banned on stage");
    await admin.click("[data-testid=ban-alice]");
    const outcome = admin.locator("[data-testid=admin-done], [data-testid=admin-error]").first();
    await outcome.waitFor({ timeout: 10_000 });
    expect(await outcome.innerText()).toContain("Banned alice");

    // Her publish UI is unmounted (the seat ended with the ban), and she cannot go back on.
    await expect.poll(() => alice.getByTestId("stage-publisher").count(), { timeout: 10_000 }).toBe(0);
    await shot(alice, "b-banned");
    const { rows: seats } = await db.query<{ status: string }>("select status::text from app_public.stream_seats where id = $1", [
      rows[0]?.seat,
    ]);
    expect(seats[0]?.status).not.toBe("active");
    expect(await alice.getByTestId("go-on-stage").count()).toBe(0);
    for (const p of [alice, admin]) await p.context().close();
  }, 90_000);

  it("no page threw", () => {
    expect(pageErrors).toEqual([]);
  });
});
