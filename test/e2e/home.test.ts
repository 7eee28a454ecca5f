// End-to-end in headless Chromium against the real server: the home page lists live streams that it
// fetched from /graphql in the browser, and sign-in works through the page.
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app.ts";
import { type Browser, launchBrowser } from "../support/browser.ts";

let app: TestApp;
let browser: Browser;

beforeAll(async () => {
  app = await startTestApp({ SEED_DEMO: "always" });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

it("home page shows the live stream, fetched through GraphQL in the browser", async () => {
  const page = await browser.context.newPage();
  const graphqlCalls: number[] = [];
  page.on("response", (r) => {
    if (r.url().endsWith("/graphql")) graphqlCalls.push(r.status());
  });
  const consoleErrors: string[] = [];
  page.on("pageerror", (e) => consoleErrors.push(e.message));
  const res = await page.goto(app.url);
  expect(res?.status()).toBe(200);
  await expect.poll(() => page.locator("[data-testid=live-streams] li").count(), { timeout: 15_000 }).toBe(1);
  expect(await page.locator("[data-testid=live-streams]").innerText()).toContain("Troll City grand opening");
  expect(graphqlCalls).toEqual([200]);
  expect(consoleErrors).toEqual([]);
  await page.close();
});

it("the browser can run a GraphQL query itself and sign in through the page", async () => {
  const page = await browser.context.newPage();
  await page.goto(`${app.url}/login`);
  const data = await page.evaluate(async () => {
    const r = await fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: '{ userByUsername(username: "trollking") { displayName role } }' }),
    });
    return await r.json();
  });
  expect(data).toEqual({ data: { userByUsername: { displayName: "Troll King", role: "broadcaster" } } });

  await page.fill("input[name=username]", "alice");
  await page.fill("input[name=password]", "trollcity-demo");
  await page.click("button[type=submit]");
  await page.waitForURL(`${app.url}/`);
  // The session is an http-only cookie (never localStorage); the header shows who signed in.
  expect(await page.evaluate(() => Object.keys(localStorage))).toEqual([]);
  const cookie = (await browser.context.cookies(app.url)).find((c) => c.name === "tc_session");
  expect(cookie?.httpOnly).toBe(true);
  const token = cookie?.value;
  expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  expect(await page.locator("[data-testid=header-name]").innerText()).toBe("Alice");
  // The token is for alice.
  const c = new pg.Client({ connectionString: app.db.url });
  await c.connect();
  const { rows } = await c.query("select id from app_public.users where username = 'alice'");
  await c.end();
  const claims = JSON.parse(Buffer.from(String(token).split(".")[1] ?? "", "base64url").toString()) as { sub: string };
  expect(claims.sub).toBe(rows[0]?.id);
  await page.close();
});
