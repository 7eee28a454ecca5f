// The stage end to end, in headless Chromium (fake camera and microphone) against the real server and
// the LiveKit double: the broadcaster invites alice through the page, alice accepts in hers and goes
// on stage with the token the database granted (the double does not do WebRTC: we assert the token's
// grants and the page's state, not a media connection); the broadcaster revokes and alice's page
// unmounts the publisher (camera and microphone stopped) within a second, saying why. Without LiveKit
// configuration the stage says it is unavailable. A signed-out viewer gets a watch-only token and the
// player connects to the stage instead of asking to sign in.
import { mkdirSync } from "node:fs";
import pg from "pg";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app.ts";
import { CHROMIUM } from "../support/browser.ts";
import { type LivekitDouble, startLivekitDouble } from "../support/livekit-double.ts";

let double: LivekitDouble;
let app: TestApp;
let db: pg.Client;
let browser: Browser;

beforeAll(async () => {
  double = await startLivekitDouble();
  app = await startTestApp({
    SEED_DEMO: "always",
    LIVEKIT_URL: double.url,
    LIVEKIT_API_KEY: double.apiKey,
    LIVEKIT_API_SECRET: double.apiSecret,
  });
  db = new pg.Client({ connectionString: app.db.url });
  await db.connect();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"],
  });
});
afterAll(async () => {
  await browser?.close();
  await db?.end();
  await app?.stop();
  await double?.close();
});

async function idOf(sql: string, params: unknown[]): Promise<string> {
  const { rows } = await db.query<{ id: string }>(sql, params);
  if (!rows[0]) throw new Error(`nothing for ${sql}`);
  return rows[0].id;
}

/** A browser context of its own (its own session cookie) signed in through the login page. */
async function signedIn(
  baseUrl: string,
  username: string,
): Promise<{ context: BrowserContext; page: Page; errors: string[]; token: string }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${baseUrl}/login`);
  await page.fill("input[name=username]", username);
  await page.fill("input[name=password]", "trollcity-demo");
  await page.click("button[type=submit]");
  await page.waitForURL(`${baseUrl}/`);
  const token = (await context.cookies(baseUrl)).find((c) => c.name === "tc_session")?.value ?? "";
  return { context, page, errors, token };
}

const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString()) as Record<string, unknown>;

it("broadcaster invites, alice accepts and goes on stage, revocation unmounts her publisher within 1 s", async () => {
  const streamId = await idOf(
    "select s.id from app_public.streams s join app_public.users u on u.id = s.broadcaster_id where u.username = 'trollking' and s.status = 'live'",
    [],
  );
  const aliceId = await idOf("select id from app_public.users where username = 'alice'", []);
  const king = await signedIn(app.url, "trollking");
  const alice = await signedIn(app.url, "alice");
  const stageOf = (p: Page) => p.getByTestId("stage");

  await king.page.goto(`${app.url}/streams/${streamId}`);
  await alice.page.goto(`${app.url}/streams/${streamId}`);
  for (const p of [king.page, alice.page])
    await expect.poll(() => stageOf(p).getAttribute("data-loaded"), { timeout: 15_000 }).toBe("true");
  // Only the broadcaster manages the stage; alice has nothing to accept yet.
  expect(await king.page.getByTestId("stage-invite").count()).toBe(1);
  expect(await alice.page.getByTestId("stage-invite").count()).toBe(0);
  expect(await alice.page.getByTestId("stage-invitation").count()).toBe(0);

  // 1. The broadcaster invites alice by username.
  await king.page.fill("input[name=invite-username]", "alice");
  await king.page.getByTestId("stage-invite").getByRole("button", { name: "Invite" }).click();
  const kingSeat = king.page.locator("[data-testid=stage-seat][data-username=alice]");
  await expect.poll(() => kingSeat.getAttribute("data-status"), { timeout: 5000 }).toBe("invited");

  // 2. Alice's page learns of it from the seat event and she accepts; both pages show her seated.
  await alice.page.getByTestId("accept-seat").click({ timeout: 5000 });
  await alice.page.getByTestId("stage-guest").waitFor({ timeout: 5000 });
  await expect.poll(() => kingSeat.getAttribute("data-status"), { timeout: 5000 }).toBe("active");
  expect(await alice.page.locator("[data-testid=stage-seat][data-username=alice]").getAttribute("data-status")).toBe("active");

  // A second invitation for a seated guest is refused with a clear SEATF message.
  await king.page.fill("input[name=invite-username]", "alice");
  await king.page.getByTestId("stage-invite").getByRole("button", { name: "Invite" }).click();
  await expect
    .poll(() => king.page.getByTestId("stage-error").textContent(), { timeout: 5000 })
    .toMatch(/^No seat: .*alice already has a seat/);

  // 3. Alice goes on stage: the token is the database's grant (no flag sent), her camera is live.
  const tokenResponse = alice.page.waitForResponse(
    (r) => r.url().endsWith("/graphql") && (r.request().postData() ?? "").includes("livekitToken"),
  );
  await alice.page.getByTestId("go-on-stage").click();
  const res = await tokenResponse;
  const sent = JSON.parse(res.request().postData() ?? "{}") as { variables: Record<string, unknown> };
  expect(sent.variables).toEqual({ s: streamId });
  const minted = ((await res.json()) as { data: { livekitToken: { token: string; url: string; canPublish: boolean } } }).data.livekitToken;
  expect(minted.canPublish).toBe(true);
  expect(minted.url).toBe(double.url.replace(/^http/, "ws"));
  const grant = claims(minted.token);
  expect(grant.sub).toBe(aliceId);
  expect(grant.video).toMatchObject({ room: streamId, roomJoin: true, canPublish: true, canPublishData: true, canSubscribe: true });
  expect(Number(grant.exp) - Number(grant.nbf ?? Math.floor(Date.now() / 1000))).toBeLessThanOrEqual(300);

  const publisher = alice.page.getByTestId("stage-publisher");
  await expect.poll(() => publisher.getAttribute("data-state"), { timeout: 10_000 }).toMatch(/^(connecting|retrying|live)$/);
  console.info(
    `stage: publisher ${await publisher.getAttribute("data-state")}: ${await alice.page.getByTestId("publisher-status").textContent()}`,
  );
  const tracks = await alice.page.evaluate(() => {
    const v = document.querySelector<HTMLVideoElement>("[data-testid=stage-preview]");
    const ts = (v?.srcObject as MediaStream | null)?.getTracks() ?? [];
    (window as unknown as { stageTracks: MediaStreamTrack[] }).stageTracks = ts;
    return ts.map((t) => `${t.kind}:${t.readyState}`).sort();
  });
  expect(tracks).toEqual(["audio:live", "video:live"]);
  // Record the instant the publisher leaves the page with every device track stopped.
  await alice.page.evaluate(() => {
    const w = window as unknown as { stageTracks: MediaStreamTrack[]; unmountedAt?: number };
    const check = () => {
      if (w.unmountedAt) return;
      if (!document.querySelector("[data-testid=stage-publisher]") && w.stageTracks.every((t) => t.readyState === "ended")) {
        w.unmountedAt = Date.now();
      }
    };
    new MutationObserver(check).observe(document.body, { childList: true, subtree: true });
  });

  // 4. The broadcaster revokes with a reason.
  await king.page
    .locator("[data-testid=stage-seat][data-username=alice] [data-testid=revoke-reason]")
    .fill("camera pointed at the ceiling");
  const t0 = Date.now();
  await king.page.locator("[data-testid=stage-seat][data-username=alice] [data-testid=revoke]").click();
  const unmountedAt = await alice.page
    .waitForFunction(() => (window as unknown as { unmountedAt?: number }).unmountedAt, undefined, { timeout: 5000 })
    .then((h) => h.jsonValue() as Promise<number>);
  console.info(`stage: revoke click → publisher unmounted, devices stopped in ${unmountedAt - t0} ms`);
  expect(unmountedAt - t0).toBeLessThan(1000);
  expect(await alice.page.getByTestId("stage-notice").textContent()).toBe("Your seat was revoked: camera pointed at the ceiling");
  expect(await alice.page.getByTestId("stage-guest").count()).toBe(0);
  expect(await alice.page.getByTestId("go-on-stage").count()).toBe(0);
  await expect.poll(() => kingSeat.count(), { timeout: 5000 }).toBe(0);

  // The server side of the same revocation: LiveKit is told, and a new token no longer publishes.
  await double.waitForCall((c) => c.method === "UpdateParticipant" && c.body.identity === aliceId, 5000);
  const again = await alice.page.evaluate(
    async ([s, token]) => {
      const r = await fetch("/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({
          query: "mutation($s: UUID!) { livekitToken(input: {streamId: $s}) { token canPublish } }",
          variables: { s },
        }),
      });
      return (await r.json()) as { data: { livekitToken: { token: string; canPublish: boolean } } };
    },
    [streamId, alice.token] as const,
  );
  expect(again.data.livekitToken.canPublish).toBe(false);
  expect(claims(again.data.livekitToken.token).video).toMatchObject({ canPublish: false, canPublishData: false });

  expect(king.errors).toEqual([]);
  expect(alice.errors).toEqual([]);
  await king.context.close();
  await alice.context.close();
});

it("a signed-out viewer watches the stage with a watch-only token, never told to sign in", async () => {
  const streamId = await idOf(
    "select s.id from app_public.streams s join app_public.users u on u.id = s.broadcaster_id where u.username = 'trollking' and s.status = 'live'",
    [],
  );
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  // Every state the player passes through (the double carries no media, so connecting may fail).
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { stageStates: string[] }).stageStates = seen;
    new MutationObserver(() => {
      const s = document.querySelector("[data-testid=player]")?.getAttribute("data-stage");
      if (s && seen[seen.length - 1] !== s) seen.push(s);
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-stage"], childList: true });
  });
  const tokenResponse = page.waitForResponse(
    (r) => r.url().endsWith("/graphql") && (r.request().postData() ?? "").includes("livekitToken"),
  );
  await page.goto(`${app.url}/streams/${streamId}`);
  const res = await tokenResponse;
  expect(res.request().headers().authorization).toBeUndefined();
  const body = (await res.json()) as { data?: { livekitToken: { token: string; url: string } | null }; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  const minted = body.data?.livekitToken;
  expect(minted?.url).toBe(double.url.replace(/^http/, "ws"));
  const grant = claims(minted?.token ?? "");
  expect(String(grant.sub)).toMatch(/^anon-/);
  expect(grant.video).toMatchObject({ room: streamId, roomJoin: true, canSubscribe: true });
  expect((grant.video as Record<string, unknown>).canPublish).not.toBe(true);
  // The player went on to connect to the stage (not "unavailable"), and never asked to sign in.
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { stageStates: string[] }).stageStates), { timeout: 10_000 })
    .toContain("connecting");
  expect(await page.getByTestId("player").getAttribute("data-path")).toBe("stage");
  const states = await page.evaluate(() => (window as unknown as { stageStates: string[] }).stageStates);
  expect(states).not.toContain("unavailable");
  const message =
    (await page
      .getByTestId("player-message")
      .textContent()
      .catch(() => "")) ?? "";
  expect(message).not.toMatch(/sign in/i);
  mkdirSync("test-results/screenshots", { recursive: true });
  await page.screenshot({ path: "test-results/screenshots/stage-signed-out.png" });
  expect(errors).toEqual([]);
  await context.close();
});

it("says the stage is unavailable when LiveKit is not configured, and refuses what a viewer may not do", async () => {
  // No LIVEKIT_* variables (the runner's environment has none; the config requires all three or none).
  const bare = await startTestApp({ SEED_DEMO: "always" });
  const c = new pg.Client({ connectionString: bare.db.url });
  await c.connect();
  try {
    // Seat alice directly (as the broadcaster, then as alice), as the UI would.
    await c.query("begin");
    await c.query("select tests.act_as(id) from app_public.users where username = 'trollking'");
    const { rows } = await c.query<{ seat: string; stream: string }>(
      `select (app_public.invite_to_seat(s.id, (select id from app_public.users where username = 'alice'))).id as seat, s.id as stream
         from app_public.streams s join app_public.users u on u.id = s.broadcaster_id where u.username = 'trollking' and s.status = 'live'`,
    );
    await c.query("commit");
    const seat = rows[0]?.seat;
    const streamId = rows[0]?.stream;
    await c.query("begin");
    await c.query("select tests.act_as(id) from app_public.users where username = 'alice'");
    await c.query("select app_public.accept_seat($1)", [seat]);
    await c.query("commit");

    const alice = await signedIn(bare.url, "alice");
    await alice.page.goto(`${bare.url}/streams/${streamId}`);
    await alice.page.getByTestId("go-on-stage").click({ timeout: 15_000 });
    await expect
      .poll(() => alice.page.getByTestId("stage-error").textContent(), { timeout: 5000 })
      .toBe("Stage unavailable: LiveKit is not configured on this server.");
    expect(await alice.page.getByTestId("stage-publisher").count()).toBe(0);
    expect(await alice.page.getByTestId("go-on-stage").count()).toBe(1);
    // A viewer sees no management controls; the API refuses her a revocation (DENYD) anyway.
    expect(await alice.page.getByTestId("revoke").count()).toBe(0);
    const denied = await alice.page.evaluate(
      async ([id, token]) => {
        const r = await fetch("/graphql", {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({
            query: 'mutation($id: UUID!) { revokeSeat(input: {seatId: $id, reason: "x"}) { result { status } } }',
            variables: { id },
          }),
        });
        return (await r.json()) as { errors?: { extensions?: { code?: string } }[] };
      },
      [seat, alice.token] as const,
    );
    expect(denied.errors?.[0]?.extensions?.code).toBe("DENYD");
    expect(alice.errors).toEqual([]);
    await alice.context.close();
  } finally {
    await c.end();
    await bare.stop();
  }
});
