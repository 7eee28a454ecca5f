// The web session cookie is renewed before its token expires (renewToken), and a token that is no
// longer honoured ends the session. JWT_TTL_SECONDS=60 is inside the renewal window (5 minutes), so
// every page load renews.
import { afterAll, beforeAll, expect, it } from "vitest";
import { SESSION_COOKIE, tokenExpiry } from "../../core/session.ts";
import { startTestApp, type TestApp } from "../support/app.ts";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ SEED_DEMO: "always", JWT_TTL_SECONDS: "60" });
});
afterAll(async () => {
  await app?.stop();
});

const cookieOf = (res: Response) =>
  res.headers
    .getSetCookie()
    .find((c) => c.startsWith(`${SESSION_COOKIE}=`))
    ?.split(";")[0]
    ?.slice(SESSION_COOKIE.length + 1);

it("a page load swaps a token close to expiry for a fresh one, and a forged cookie is dropped", async () => {
  const login = await fetch(`${app.url}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: app.url },
    body: "username=alice&password=trollcity-demo",
  });
  const first = cookieOf(login);
  expect(first).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  const set = login.headers.getSetCookie().join("\n");
  expect(set).toContain("HttpOnly");
  expect(set).toContain("SameSite=Lax");
  await new Promise((r) => setTimeout(r, 1100));
  const page = await fetch(`${app.url}/wallet`, { headers: { cookie: `${SESSION_COOKIE}=${first}` } });
  expect(page.status).toBe(200);
  const renewed = cookieOf(page);
  expect(renewed).toBeDefined();
  expect(renewed).not.toBe(first);
  expect(tokenExpiry(renewed as string)).toBeGreaterThan(tokenExpiry(first as string) as number);
  expect(await page.text()).toContain("Alice");

  const forged = await fetch(`${app.url}/wallet`, { redirect: "manual", headers: { cookie: `${SESSION_COOKIE}=${first}x` } });
  expect(forged.status).toBe(303);
  expect(forged.headers.get("location")).toContain("/login");
  expect(forged.headers.getSetCookie().join("\n")).toMatch(new RegExp(`${SESSION_COOKIE}=;.*Max-Age=0`));
});
