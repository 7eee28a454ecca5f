// The JWT verifier: pinned algorithm and audience; a verified token is remembered, but never past
// its expiry, and a changed token string is verified afresh.
import { SignJWT } from "jose";
import { expect, it } from "vitest";
import { AuthError, makeVerifier } from "../../web/src/server/auth.ts";

const config = { JWT_SECRET: "unit-test-secret-0123456789abcdef0123456789", JWT_AUDIENCE: "trollcity" };
const sign = (exp: number, secret = config.JWT_SECRET) =>
  new SignJWT({ role: "authenticated", sub: "00000000-0000-0000-0000-000000000001", aud: "trollcity" })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(secret));

it("remembers a verified token only until it expires", async () => {
  const settingsFor = makeVerifier(config);
  // Valid for 3-4 s (a loaded machine must not see it expire before the first use), then waited out.
  const exp = Math.floor(Date.now() / 1000) + 4;
  const token = await sign(exp);
  const first = await settingsFor(`Bearer ${token}`);
  expect(first.role).toBe("authenticated");
  expect(await settingsFor(`Bearer ${token}`)).toBe(first); // served from memory
  await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 1100));
  await expect(settingsFor(`Bearer ${token}`)).rejects.toThrow(/expired/);
});

it("a tampered copy of a remembered token is rejected", async () => {
  const settingsFor = makeVerifier(config);
  const token = await sign(Math.floor(Date.now() / 1000) + 600);
  await settingsFor(`Bearer ${token}`);
  const forged = await sign(Math.floor(Date.now() / 1000) + 600, "another-secret-0123456789abcdef0123456789");
  await expect(settingsFor(`Bearer ${forged}`)).rejects.toBeInstanceOf(AuthError);
  await expect(settingsFor(`Bearer ${token.slice(0, -2)}xx`)).rejects.toBeInstanceOf(AuthError);
});
