// End-to-end in headless Chromium, against the app started the test way, with Stripe played by
// test/support/stripe-double.ts (webhooks signed by the SDK's own test helper): sign up, buy coins,
// sign out and in (also without JavaScript), edit the profile, an admin bans a user (refused at
// once), the admin chart draws the settlement batches, refunds claw coins back. Every page of the
// header/accounts/coins/admin part is screenshotted at 1280 and 390 px into test-results/screenshots/,
// checked for horizontal scrolling at 390 px and run through axe (no serious or critical violations).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { AxeBuilder } from "@axe-core/playwright";
import pg from "pg";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION_COOKIE } from "../../core/session.ts";
import { DEMO_PASSWORD } from "../../db/seed.ts";
import { startTestApp, type TestApp } from "../support/app.ts";
import { CHROMIUM } from "../support/browser.ts";
import { type StripeDouble, startStripeDouble, TEST_STRIPE_SECRET_KEY, TEST_STRIPE_WEBHOOK_SECRET } from "../support/stripe-double.ts";

const SHOTS = join(process.cwd(), "test-results/screenshots");
let app: TestApp;
let stripe: StripeDouble;
let browser: Browser;
let db: pg.Client;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stripe = await startStripeDouble();
  app = await startTestApp({
    SEED_DEMO: "always",
    STRIPE_SECRET_KEY: TEST_STRIPE_SECRET_KEY,
    STRIPE_WEBHOOK_SECRET: TEST_STRIPE_WEBHOOK_SECRET,
    STRIPE_API_BASE: stripe.url,
  });
  stripe.webhookUrl = `${app.url}/webhooks/stripe`;
  // Separate contexts (a banned user and the admin at once) need a non-persistent browser.
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-quic"] });
  db = new pg.Client({ connectionString: app.db.url });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await browser?.close();
  await app?.stop();
  await stripe?.close();
});

/** A fresh, cookie-less page in its own browser context. */
async function freshPage(opts: { javaScriptEnabled?: boolean } = {}): Promise<Page> {
  const ctx = await browser.newContext(opts);
  return ctx.newPage();
}

async function signIn(page: Page, username: string, password = DEMO_PASSWORD) {
  await page.goto(`${app.url}/login`);
  await page.fill("input[name=username]", username);
  await page.fill("input[name=password]", password);
  await page.click("main button[type=submit]");
  const outcome = page.locator("[data-testid=header-name], [data-testid=login-error]").first();
  try {
    await outcome.waitFor({ timeout: 20_000 });
  } catch (e) {
    await page.screenshot({ path: join(SHOTS, `failed-sign-in-${username}.png`) });
    throw new Error(`sign-in as ${username} did not finish (at ${page.url()}): ${(e as Error).message}`);
  }
  if (await page.locator("[data-testid=login-error]").count()) {
    throw new Error(`sign-in as ${username} refused: ${await page.locator("[data-testid=login-error]").innerText()}`);
  }
}

async function sessionCookie(page: Page) {
  return (await page.context().cookies(app.url)).find((c) => c.name === SESSION_COOKIE);
}

async function balanceOf(username: string): Promise<number> {
  const { rows } = await db.query(
    "select coalesce(w.balance, 0)::int as b from app_public.users u left join app_private.wallets w on w.user_id = u.id where u.username = $1",
    [username],
  );
  return rows[0]?.b ?? -1;
}

describe("accounts and coins", () => {
  const name = `newbie${Date.now() % 100000}`;

  it("sign up, buy a coin pack through Stripe Checkout, and the balance shows", async () => {
    const page = await freshPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${app.url}/signup`);
    await page.fill("input[name=username]", name);
    await page.fill("input[name=email]", `${name}@example.test`);
    await page.fill("input[name=password]", "correct-horse-1");
    await page.fill("input[name=password2]", "correct-horse-1");
    await Promise.all([page.waitForURL(`${app.url}/wallet`), page.click("button[type=submit]")]);
    // No free coins (welcome_coins defaults to 0).
    await expect.poll(() => page.locator("[data-testid=wallet-balance]").innerText()).toContain("0");
    expect(await page.locator("[data-testid=header-name]").innerText()).toBe(name);
    const cookie = await sessionCookie(page);
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe("Lax");
    expect(cookie?.secure).toBe(false); // plain http in tests; Secure over https
    expect(await page.evaluate(() => JSON.stringify(localStorage))).not.toContain(cookie?.value ?? "-");

    await page.click("[data-testid=buy-starter]");
    await page.waitForURL((u) => u.href.startsWith(stripe.url));
    expect(stripe.calls.find((c) => c.path === "/v1/checkout/sessions")?.status).toBe(200);
    await Promise.all([page.waitForURL(`${app.url}/wallet?checkout=success`), page.click("button[type=submit]")]);
    await expect.poll(() => page.locator("[data-testid=header-balance]").innerText()).toContain("100");
    expect(await page.locator("[data-testid=wallet-balance]").innerText()).toContain("100");
    expect(await page.locator("[data-testid=wallet-history]").innerText()).toContain("Bought coins");
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it("the webhook is idempotent, refuses bad signatures, and a refund claws coins back (a shortfall becomes a debt)", async () => {
    const [id] = [...stripe.sessions.keys()];
    const session = stripe.sessions.get(id as string);
    expect(session?.payment_status).toBe("paid");
    const again = await stripe.send("checkout.session.completed", { ...session });
    expect(again.status).toBe(200);
    expect((again.body as { duplicate: boolean }).duplicate).toBe(true);
    expect(await balanceOf(name)).toBe(100);
    const forged = await fetch(`${app.url}/webhooks/stripe`, {
      method: "POST",
      headers: { "stripe-signature": "t=1,v1=00", "content-type": "application/json" },
      body: JSON.stringify({ id: "evt_forged", type: "checkout.session.completed", data: { object: session } }),
    });
    expect(forged.status).toBe(400);
    // Spend 40 of the 100 coins elsewhere, then refund 50 of the 99 cents: ceil(100 × 50 / 99) = 51
    // coins go back (60 left → 9); the full refund then owes 49 more: 9 taken, 40 become a debt.
    await db.query(
      "update app_private.wallets set balance = balance - 40 where user_id = (select id from app_public.users where username = $1)",
      [name],
    );
    await db.query(
      `insert into app_private.wallets as w (user_id, balance) select id, 40 from app_public.users where username = 'trollking'
       on conflict (user_id) do update set balance = w.balance + 40`,
    );
    await db.query(
      `insert into app_private.coin_transactions (kind, debit_account, debit_user_id, credit_account, credit_user_id, amount)
       select 'gift_settlement', 'user', a.id, 'user', b.id, 40 from app_public.users a, app_public.users b where a.username = $1 and b.username = 'trollking'`,
      [name],
    );
    const half = await stripe.refund(id as string, 50);
    expect(half.status).toBe(200);
    expect(await balanceOf(name)).toBe(9);
    const full = await stripe.refund(id as string, 99);
    expect(full.body).toMatchObject({ clawed: "9", debt: "40" });
    expect(await balanceOf(name)).toBe(0);
    const { rows } = await db.query("select sum(outstanding)::int as owed from app_private.wallet_debts");
    expect(rows[0]?.owed).toBe(40);
    const { rows: audit } = await db.query("select * from app_private.gift_audit() where invariant = 'coins conserved'");
    expect(audit).toEqual([]);
  });

  it("sign out and sign in keep working, and the session survives reloads", async () => {
    const page = await freshPage();
    await signIn(page, "alice");
    expect(await page.locator("[data-testid=header-name]").innerText()).toBe("Alice");
    await page.reload();
    expect(await page.locator("[data-testid=header-name]").innerText()).toBe("Alice");
    await page.click("[data-testid=user-menu]");
    await Promise.all([page.waitForURL(`${app.url}/`), page.click("[data-testid=sign-out]")]);
    expect(await page.locator("header").innerText()).toContain("Sign in");
    expect(await sessionCookie(page)).toBeUndefined();
    await page.goto(`${app.url}/login`);
    await page.fill("input[name=username]", "alice");
    await page.fill("input[name=password]", "wrong-password");
    await page.click("button[type=submit]");
    await expect.poll(() => page.locator("[data-testid=login-error]").innerText()).toBe("Wrong username, e-mail or password.");
    await signIn(page, "alice");
    expect(await page.locator("[data-testid=header-name]").innerText()).toBe("Alice");
    await page.context().close();
  });

  it("signing in and out works without JavaScript", async () => {
    const page = await freshPage({ javaScriptEnabled: false });
    await signIn(page, "bob");
    expect(await page.locator("[data-testid=header-name]").innerText()).toBe("Bob");
    await page.goto(`${app.url}/wallet`);
    expect(await page.locator("[data-testid=wallet-balance]").innerText()).toMatch(/\d/);
    await page.locator("[data-testid=user-menu]").click();
    await Promise.all([page.waitForURL(`${app.url}/`), page.click("[data-testid=sign-out]")]);
    expect(await sessionCookie(page)).toBeUndefined();
    await page.context().close();
  });

  it("the profile page edits the display name, avatar and vehicle status, with clear errors", async () => {
    const page = await freshPage();
    await signIn(page, "carol");
    await page.goto(`${app.url}/account`);
    await page.fill("input[name=displayName]", "Carol the Bold");
    await page.fill("input[name=vehicleStatus]", "🚜 Tractor");
    await page.fill("input[name=avatarUrl]", "");
    await page.click("main button[type=submit]");
    await page.locator("[data-testid=account-saved], [data-testid=account-error]").first().waitFor();
    expect(await page.locator("[data-testid=account-error]").count(), await page.locator("main").innerText()).toBe(0);
    await page.reload();
    expect(await page.locator("[data-testid=header-name]").innerText()).toBe("Carol the Bold");
    expect(await page.locator("[data-testid=vehicle-badge]").innerText()).toBe("🚜 Tractor");
    await page.fill("input[name=vehicleStatus]", "Car\u0007");
    await page.click("main button[type=submit]");
    await expect
      .poll(() => page.locator("[data-testid=account-error]").innerText())
      // The single-line text rule's own message (app_hidden.clean_line, docs/security.md): the field and the code point.
      .toContain("Vehicle status contains an invisible or control character (U+0007)");
    await page.context().close();
  });
});

describe("admin console", () => {
  it("an admin bans a user site-wide and they are refused at once", async () => {
    const victim = await freshPage();
    await signIn(victim, "bob");
    const token = (await sessionCookie(victim))?.value ?? "";
    expect(token).not.toBe("");

    const admin = await freshPage();
    await signIn(admin, "admin");
    await admin.goto(`${app.url}/admin?q=bob`);
    await admin.fill("[data-testid=ban-reason-bob]", "e2e: abusive chat");
    await admin.click("[data-testid=ban-bob]");
    await admin.locator("[data-testid=admin-done], [data-testid=admin-error]").first().waitFor();
    expect(await admin.locator("[data-testid=admin-done], [data-testid=admin-error]").first().innerText()).toContain("Banned bob");

    // Refused at once: the API answers BANND for the old token, the next page load ends the session.
    const r = await app.gql("mutation { renewToken(input: {}) { result } }", {}, token);
    expect(r.errors?.[0]?.extensions?.code).toBe("BANND");
    await victim.goto(`${app.url}/wallet`);
    await victim.waitForURL(/\/login/);
    expect(await victim.locator("header").innerText()).toContain("Sign in");
    expect(await sessionCookie(victim)).toBeUndefined();
    await signIn(victim, "bob").catch(() => {});
    await expect.poll(() => victim.locator("[data-testid=login-error]").innerText()).toContain("banned");
    await admin.goto(`${app.url}/admin`);
    expect(await admin.locator("[data-testid=moderation-log]").innerText()).toContain("site ban");
    await victim.context().close();
    await admin.context().close();
  });

  it("a moderator sees the moderation log only, a viewer is turned away", async () => {
    const mod = await freshPage();
    await signIn(mod, "mod_mia");
    await mod.goto(`${app.url}/admin`);
    expect(await mod.locator("[data-testid=moderation-log]").innerText()).toContain("mute");
    expect(await mod.locator("[data-testid=settlement-chart]").count()).toBe(0);
    await mod.context().close();
    const viewer = await freshPage();
    await signIn(viewer, "alice");
    await viewer.goto(`${app.url}/admin`);
    expect(await viewer.locator("[data-testid=admin-denied]").count()).toBe(1);
    await viewer.context().close();
  });

  it("the settlement chart renders the batch logs the worker wrote", async () => {
    await expect
      .poll(async () => (await db.query("select count(*)::int as n from app_public.gift_batch_logs where processed > 0")).rows[0]?.n, {
        timeout: 40_000,
      })
      .toBeGreaterThan(0);
    const page = await freshPage();
    await signIn(page, "admin");
    await page.goto(`${app.url}/admin`);
    await expect.poll(() => page.locator("[data-testid=settlement-summary]").innerText()).toMatch(/^\d+ batches/);
    const painted = await page.locator("[data-testid=settlement-chart]").evaluate((c: HTMLCanvasElement) => {
      const ctx = c.getContext("2d");
      if (!ctx || c.width === 0) return 0;
      const px = ctx.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < px.length; i += 4) if ((px[i] ?? 0) > 0) n++;
      return n;
    });
    expect(painted).toBeGreaterThan(500);
    await page.context().close();
  });
});

describe("screenshots, phone width and axe", () => {
  const pages: { name: string; path: string; as: string | null }[] = [
    { name: "home", path: "/", as: "alice" },
    { name: "login", path: "/login", as: null },
    { name: "signup", path: "/signup", as: null },
    { name: "account", path: "/account", as: "alice" },
    { name: "wallet", path: "/wallet", as: "alice" },
    { name: "admin", path: "/admin", as: "admin" },
    { name: "admin-moderator", path: "/admin", as: "mod_mia" },
  ];
  for (const p of pages) {
    it(`${p.name}: 1280 and 390 px, no horizontal scroll on a phone, no serious axe violations`, async () => {
      const page = await freshPage();
      if (p.as) await signIn(page, p.as);
      for (const width of [1280, 390]) {
        await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
        await page.goto(`${app.url}${p.path}`);
        await page.waitForLoadState("networkidle");
        if (p.name === "home") await page.locator("[data-testid=user-menu]").click();
        await page.screenshot({ path: join(SHOTS, `${p.name}-${width}.png`), fullPage: true });
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect(overflow, `${p.name} at ${width}px scrolls sideways`).toBeLessThanOrEqual(0);
      }
      const axe = await new AxeBuilder({ page }).analyze();
      const bad = axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
      expect(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`)).toEqual([]);
      await page.context().close();
    });
  }
});
