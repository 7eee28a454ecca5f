// Gifting end to end in headless Chromium against the real server (with its worker): alice sends a
// gift from the stream page and her balance drops at once; bob sees the on-screen toast with her name
// (from the self-contained `gift` event, no query); after settlement the top gifters list shows alice
// on both pages (from the `leaderboard` event); a gift she cannot pay shows INSFD and costs nothing; a
// click whose answer was lost (the socket dropped before the ack) is retried with the same idempotency
// key and charged once; gifts are `gift` frames on the broadcast socket (no /graphql POST); the
// broadcaster is told he cannot gift his own stream; the leaderboard page ranks him by period.
import pg from "pg";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app.ts";
import { CHROMIUM } from "../support/browser.ts";

let app: TestApp;
let browser: Browser;
let db: pg.Client;
let streamId: string;
const ids: Record<string, string> = {};
const pages: Record<string, Page> = {};
const graphqlBodies: Record<string, string[]> = {};
const pageErrors: string[] = [];

async function login(username: string): Promise<string> {
  const r = await app.gql<{ login: { result: string } }>(
    'mutation($u: String!) { login(input: {usernameOrEmail: $u, password: "trollcity-demo"}) { result } }',
    { u: username },
  );
  const token = r.data?.login.result;
  if (!token) throw new Error(`login ${username}: ${JSON.stringify(r.errors)}`);
  return token;
}

async function openStream(name: string, token: string): Promise<Page> {
  const context = await browser.newContext();
  await context.addCookies([{ name: "tc_session", value: token, url: app.url }]);
  const page = await context.newPage();
  graphqlBodies[name] = [];
  page.on("request", (r) => {
    if (r.url().endsWith("/graphql")) graphqlBodies[name]?.push(r.postData() ?? "");
  });
  page.on("pageerror", (e) => pageErrors.push(`${name}: ${e.message}`));
  await page.goto(`${app.url}/streams/${streamId}`);
  // Loaded: the catalogue and the wallet are shown, and the broadcast socket is connected.
  await page.locator("[data-testid=gift-option]").nth(5).waitFor({ timeout: 30_000 });
  await page.locator("[data-testid=gift-balance]").waitFor({ timeout: 30_000 });
  await page.locator("[data-testid=chat-viewer-count]").waitFor({ timeout: 30_000 });
  return page;
}

const balanceOf = async (page: Page) => Number(await page.locator("[data-testid=gift-balance]").getAttribute("data-balance"));

async function walletOf(username: string): Promise<number> {
  const { rows } = await db.query<{ balance: string }>("select balance from app_private.wallets where user_id = $1", [ids[username]]);
  return Number(rows[0]?.balance);
}

async function sendGift(page: Page, slug: string, quantity: number) {
  await page.locator(`[data-testid=gift-option][data-slug=${slug}]`).click();
  await page.locator("[data-testid=gift-quantity]").fill(String(quantity));
  await page.locator("[data-testid=gift-send]").click();
}

beforeAll(async () => {
  app = await startTestApp({ SEED_DEMO: "always", RUN_WORKER: "true" });
  db = new pg.Client({ connectionString: app.db.url });
  await db.connect();
  const { rows } = await db.query<{ username: string; id: string }>(
    "select username, id from app_public.users where username in ('alice', 'bob', 'trollking')",
  );
  for (const r of rows) ids[r.username] = r.id;
  const s = await db.query<{ id: string }>("select id from app_public.streams where status = 'live' and broadcaster_id = $1", [
    ids.trollking,
  ]);
  streamId = String(s.rows[0]?.id);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-sync"],
  });
  for (const u of ["alice", "bob", "trollking"]) pages[u] = await openStream(u, await login(u));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await db?.end();
  await app?.stop();
});

describe("gifting from the stream page", () => {
  it("shows the catalogue with art and prices", async () => {
    const bob = pages.bob as Page;
    const crown = bob.locator("[data-testid=gift-option][data-slug=crown]");
    expect(await crown.innerText()).toContain("Crown");
    expect(await crown.locator("[data-testid=gift-price]").innerText()).toContain("100");
    // The art is served: every image in the catalogue loaded.
    await expect
      .poll(() =>
        bob.locator("[data-testid=gift-option] img").evaluateAll((imgs) => imgs.every((i) => (i as HTMLImageElement).naturalWidth > 0)),
      )
      .toBe(true);
    expect(await bob.locator("[data-testid=top-gifters-empty]").count()).toBe(1);
  });

  it("alice sends a gift: her balance drops by the price at once and bob sees the toast without a query", async () => {
    const alice = pages.alice as Page;
    const bob = pages.bob as Page;
    const before = await balanceOf(alice);
    expect(before).toBe(await walletOf("alice"));
    const bobQueries = graphqlBodies.bob?.length;
    const aliceQueries = graphqlBodies.alice?.length ?? 0;
    await sendGift(alice, "crown", 2);
    await expect.poll(() => balanceOf(alice), { timeout: 10_000 }).toBe(before - 200);
    await alice.locator("[data-testid=gift-sent]").waitFor({ timeout: 10_000 });
    // Sent as a `gift` frame on the broadcast socket the page already has open: no /graphql POST.
    expect(graphqlBodies.alice?.slice(aliceQueries)).toEqual([]);
    expect(await walletOf("alice")).toBe(before - 200);
    const toast = bob.locator("[data-testid=gift-toast]").filter({ hasText: "Crown" });
    await toast.waitFor({ timeout: 10_000 });
    expect(await toast.locator("[data-testid=gift-toast-sender]").innerText()).toBe("Alice");
    expect(await toast.innerText()).toContain("2 × Crown");
    expect(await toast.locator("img").getAttribute("src")).toBe("/gifts/crown.svg");
    expect(graphqlBodies.bob?.filter((b) => /gift|wallet/i.test(b)).length).toBe(
      graphqlBodies.bob?.slice(0, bobQueries).filter((b) => /gift|wallet/i.test(b)).length,
    );
  });

  it("a click whose answer is lost is retried with the same idempotency key and charged once", async () => {
    const alice = pages.alice as Page;
    const before = await walletOf("alice");
    const keys: string[] = [];
    // The first gift frame reaches the server, but its ack is dropped and the socket closes: the
    // browser sees a lost answer (NETWORK). The page reconnects and the retry goes on the new socket.
    let lose = true;
    let lostId: unknown = null;
    await alice.routeWebSocket(/\/broadcast\?/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((m) => {
        const f = JSON.parse(String(m)) as { type?: string; id?: unknown; idempotency_key?: string };
        if (f.type === "gift") {
          keys.push(String(f.idempotency_key));
          if (lose) {
            lose = false;
            lostId = f.id;
          }
        }
        server.send(m);
      });
      server.onMessage((m) => {
        const f = JSON.parse(String(m)) as { type?: string; id?: unknown };
        if (lostId !== null && f.type === "ack" && f.id === lostId) {
          lostId = null;
          void ws.close({ code: 4000, reason: "answer lost" });
          void server.close();
          return;
        }
        ws.send(m);
      });
    });
    // The route applies to sockets opened from now on.
    await alice.reload();
    await alice.locator("[data-testid=gift-option]").nth(5).waitFor({ timeout: 30_000 });
    await alice.locator("[data-testid=chat-viewer-count]").waitFor({ timeout: 30_000 });
    const posts = graphqlBodies.alice?.length ?? 0;
    await sendGift(alice, "rose", 3);
    const error = alice.locator("[data-testid=gift-error]");
    await error.waitFor({ timeout: 10_000 });
    expect(await error.getAttribute("data-code")).toBe("NETWORK");
    await expect.poll(() => walletOf("alice"), { timeout: 10_000 }).toBe(before - 3);
    // Reconnected (the viewer count is back after the hello), then the retry.
    await expect.poll(() => alice.locator("[data-testid=chat-viewer-count]").count(), { timeout: 10_000 }).toBe(1);
    await alice.waitForTimeout(1500);
    await alice.locator("[data-testid=gift-send]").click();
    await alice.locator("[data-testid=gift-sent]").waitFor({ timeout: 10_000 });
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    expect(await walletOf("alice")).toBe(before - 3);
    await expect.poll(() => balanceOf(alice), { timeout: 10_000 }).toBe(before - 3);
    // The next click is a new gift with a new key.
    await alice.locator("[data-testid=gift-send]").click();
    await expect.poll(() => balanceOf(alice), { timeout: 10_000 }).toBe(before - 6);
    expect(keys).toHaveLength(3);
    expect(keys[2]).not.toBe(keys[0]);
    expect(graphqlBodies.alice?.slice(posts).filter((b) => b.includes("SendGift"))).toEqual([]);
  });

  it("after settlement the top gifters list shows alice on both pages", async () => {
    // The worker settles every 10 s; settle now instead of waiting.
    await db.query("select app_private.process_gift_ledger_batch()");
    for (const page of [pages.alice as Page, pages.bob as Page]) {
      const row = page.locator("[data-testid=top-gifter][data-username=alice]");
      // The worker may have settled part of it already: wait for the total of all three gifts.
      await expect.poll(() => row.innerText({ timeout: 1000 }).catch(() => ""), { timeout: 15_000 }).toMatch(/Alice[\s\S]*206/);
    }
  });

  it("the leaderboard page (linked from the header) ranks the broadcaster by the settled coins in each period", async () => {
    const page = await (pages.bob as Page).context().newPage();
    await page.goto(app.url);
    await page.getByRole("link", { name: "Leaderboard" }).click();
    for (const period of ["This week", "Today", "All time"]) {
      await page.getByRole("radio", { name: period }).check();
      const row = page.locator("[data-testid=leaderboard-entry][data-username=trollking]");
      await row.waitFor({ timeout: 10_000 });
      expect(await row.innerText()).toContain("206");
    }
    await page.close();
  });

  it("a gift costing more than the balance shows INSFD and the balance is unchanged", async () => {
    const alice = pages.alice as Page;
    const before = await balanceOf(alice);
    expect(before).toBeLessThan(10_000);
    await sendGift(alice, "castle", 10);
    const error = alice.locator("[data-testid=gift-error]");
    await error.waitFor({ timeout: 10_000 });
    expect(await error.getAttribute("data-code")).toBe("INSFD");
    expect(await error.innerText()).toContain("Not enough coins");
    expect(await balanceOf(alice)).toBe(before);
    expect(await walletOf("alice")).toBe(before);
  });

  it("the broadcaster cannot gift his own stream", async () => {
    const king = pages.trollking as Page;
    await sendGift(king, "rose", 1);
    const error = king.locator("[data-testid=gift-error]");
    await error.waitFor({ timeout: 10_000 });
    expect(await error.getAttribute("data-code")).toBe("DENYD");
    expect(await error.innerText()).toContain("your own stream");
    expect(pageErrors).toEqual([]);
  });
});
