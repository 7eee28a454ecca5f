// LiveKit tokens against the running server: every minted token is decoded and its grants asserted;
// a malicious viewer gets no publish grant whatever it sends; a signed-out one gets a watch-only token;
// 503 without LiveKit config; a key that
// does not match the LiveKit URL is reported at start.
import { TokenVerifier } from "livekit-server-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app.ts";
import { type LivekitDouble, type StageFixtures, stageFixtures, startLivekitDouble } from "../support/livekit-double.ts";

let double: LivekitDouble;
let app: TestApp;
let fx: StageFixtures;
const users: Record<string, { id: string; token: string }> = {};
let streamId: string;
let otherStreamId: string;
let verifier: TokenVerifier;

beforeAll(async () => {
  double = await startLivekitDouble();
  app = await startTestApp({ LIVEKIT_URL: double.url, LIVEKIT_API_KEY: double.apiKey, LIVEKIT_API_SECRET: double.apiSecret });
  double.webhookUrl = `${app.url}/webhooks/livekit`;
  verifier = new TokenVerifier(double.apiKey, double.apiSecret);
  fx = await stageFixtures(app.db.url);
  for (const [name, role] of [
    ["caster", "broadcaster"],
    ["caster2", "broadcaster"],
    ["viewer1", "viewer"],
    ["guest", "viewer"],
    ["mod", "moderator"],
    ["boss", "admin"],
    ["outcast", "viewer"],
  ] as const)
    users[name] = await fx.user(name, role);
  streamId = String((await fx.as(users.caster!.id, "select (app_public.go_live('main show')).id"))[0]?.id);
  otherStreamId = String((await fx.as(users.caster2!.id, "select (app_public.go_live('other show')).id"))[0]?.id);
});
afterAll(async () => {
  await fx?.close();
  await app?.stop();
  await double?.close();
});

async function tokenRequest(user: { token: string } | null, body: unknown) {
  const res = await fetch(`${app.url}/livekit-token`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(user ? { authorization: `Bearer ${user.token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { token?: string; url?: string } };
}

async function decode(token: string) {
  const claims = await verifier.verify(token);
  return { sub: claims.sub, video: claims.video ?? {}, ttl: Number(claims.exp) - Number(claims.nbf ?? claims.iat) };
}

describe("POST /livekit-token", () => {
  it("mints exactly the database grant for every role (explicit false for viewers)", async () => {
    const cases: [string, Record<string, unknown>, number][] = [
      ["viewer1", { canPublish: false, canSubscribe: true, canPublishData: false, roomAdmin: false }, 3600],
      ["mod", { canPublish: false, canSubscribe: true, canPublishData: false, roomAdmin: false }, 3600],
      ["boss", { canPublish: false, canSubscribe: true, canPublishData: false, roomAdmin: true }, 3600],
      ["caster", { canPublish: true, canSubscribe: true, canPublishData: true, roomAdmin: false }, 300],
      ["caster2", { canPublish: false, canSubscribe: true, canPublishData: false, roomAdmin: false }, 3600],
    ];
    for (const [name, want, ttl] of cases) {
      const user = users[name]!;
      const r = await tokenRequest(user, { streamId, allowPublish: true });
      expect(r.status, name).toBe(200);
      expect(r.body.url).toBe(double.url.replace("http://", "ws://"));
      const t = await decode(String(r.body.token));
      expect(t.sub, name).toBe(user.id);
      expect(t.video, name).toMatchObject({ room: streamId, roomJoin: true, canUpdateOwnMetadata: false, ...want });
      for (const k of ["canPublish", "canPublishData", "canSubscribe"])
        expect(Object.hasOwn(t.video, k), `${name}: ${k} set explicitly`).toBe(true);
      expect(Math.abs(t.ttl - ttl), name).toBeLessThanOrEqual(1);
    }
  });

  it("a seat holder publishes until the seat is revoked", async () => {
    const seat = (await fx.as(users.caster!.id, "select (app_public.invite_to_seat($1, $2)).id", [streamId, users.guest!.id]))[0]?.id;
    let t = await decode(String((await tokenRequest(users.guest!, { room: streamId })).body.token));
    expect(t.video.canPublish).toBe(false);
    await fx.as(users.guest!.id, "select app_public.accept_seat($1)", [seat]);
    t = await decode(String((await tokenRequest(users.guest!, { room: streamId })).body.token));
    expect(t.video).toMatchObject({ canPublish: true, canPublishData: true });
    await fx.as(users.caster!.id, "select app_public.revoke_seat($1, 'done')", [seat]);
    t = await decode(String((await tokenRequest(users.guest!, { room: streamId, allowPublish: true })).body.token));
    expect(t.video).toMatchObject({ canPublish: false, canPublishData: false });
  });

  it("1,000 malicious viewer requests with every flag and a foreign identity/room: 0 publish grants", async () => {
    const evil = {
      allowPublish: true,
      canPublish: true,
      canPublishData: true,
      roomAdmin: true,
      role: "admin",
      identity: users.caster!.id,
      userId: users.caster!.id,
      sub: users.caster!.id,
      grants: { canPublish: true, roomAdmin: true, roomCreate: true },
      video: { canPublish: true, roomAdmin: true },
      metadata: '{"role":"broadcaster"}',
    };
    const bodies = [
      { ...evil, room: streamId },
      { ...evil, streamId: otherStreamId, room: streamId },
      { ...evil, room: otherStreamId },
      { ...evil, streamId, identity: users.caster2!.id },
    ];
    let publish = 0;
    let minted = 0;
    const identities = new Set<string>();
    const queue = Array.from({ length: 1000 }, (_, i) => bodies[i % bodies.length]);
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let b = queue.pop(); b; b = queue.pop()) {
          const r = await tokenRequest(users.viewer1!, b);
          expect(r.status).toBe(200);
          const t = await decode(String(r.body.token));
          minted++;
          identities.add(String(t.sub));
          if (t.video.canPublish !== false || t.video.canPublishData !== false || t.video.roomAdmin) publish++;
        }
      }),
    );
    expect(minted).toBe(1000);
    expect(publish).toBe(0);
    expect([...identities]).toEqual([users.viewer1!.id]);
  });

  it("answers with our error codes", async () => {
    // Signed out: a watch-only token, never more, whatever the body asks for (test/integration/video.test.ts).
    const anon = await tokenRequest(null, { streamId, allowPublish: true, canPublish: true });
    expect(anon.status).toBe(200);
    expect((await decode(String(anon.body.token))).video).toMatchObject({ canPublish: false, canPublishData: false, canSubscribe: true });
    expect((await tokenRequest(users.viewer1!, { room: "not-a-uuid" })).status).toBe(400);
    const missing = await tokenRequest(users.viewer1!, { streamId: "00000000-0000-0000-0000-000000000000" });
    expect([missing.status, missing.body]).toMatchObject([404, { error: { code: "NOFND" } }]);
    await fx.db.query("update app_public.users set is_banned = true where id = $1", [users.outcast!.id]);
    const banned = await tokenRequest(users.outcast!, { streamId });
    expect([banned.status, banned.body]).toMatchObject([403, { error: { code: "BANND" } }]);
    await fx.as(users.caster2!.id, "select app_public.end_stream($1)", [otherStreamId]);
    const ended = await tokenRequest(users.caster2!, { streamId: otherStreamId });
    expect([ended.status, ended.body]).toMatchObject([409, { error: { code: "NLIVE" } }]);
  });
});

describe("GraphQL livekitToken", () => {
  const MUTATION = `mutation($s: UUID!) { livekitToken(input: {streamId: $s}) { token url room identity canPublish canSubscribe canPublishData roomAdmin expiresAt } }`;

  it("returns a token for the caller's grant", async () => {
    for (const name of ["viewer1", "caster"]) {
      const r = await app.gql<{ livekitToken: Record<string, unknown> }>(MUTATION, { s: streamId }, users[name]!.token);
      expect(r.errors, name).toBeUndefined();
      const out = r.data!.livekitToken;
      const t = await decode(String(out.token));
      expect(t.sub).toBe(users[name]!.id);
      expect(out).toMatchObject({ room: streamId, identity: users[name]!.id, canPublish: name === "caster", canSubscribe: true });
      expect(t.video).toMatchObject({ room: streamId, canPublish: name === "caster", canPublishData: name === "caster" });
    }
  });

  it("maps errors to our codes (signed out: a watch-only token)", async () => {
    const anon = await app.gql<{ livekitToken: Record<string, unknown> }>(MUTATION, { s: streamId });
    expect(anon.data?.livekitToken).toMatchObject({ canPublish: false, canSubscribe: true, canPublishData: false, roomAdmin: false });
    expect(anon.data?.livekitToken.identity).toMatch(/^anon-/);
    const missing = await app.gql(MUTATION, { s: "00000000-0000-0000-0000-000000000000" }, users.viewer1!.token);
    expect(missing.errors?.[0]?.extensions?.code).toBe("NOFND");
  });
});

describe("configuration", () => {
  it("without LiveKit config the token endpoints answer 503 with a clear message", async () => {
    const bare = await startTestApp({}, { db: app.db });
    try {
      const res = await fetch(`${bare.url}/livekit-token`, {
        method: "POST",
        headers: { authorization: `Bearer ${users.viewer1!.token}` },
        body: JSON.stringify({ streamId }),
      });
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ error: { code: "CONFG", message: expect.stringContaining("LIVEKIT_URL") } });
      const g = await bare.gql(
        `mutation($s: UUID!) { livekitToken(input: {streamId: $s}) { token } }`,
        { s: streamId },
        users.viewer1!.token,
      );
      expect(g.errors?.[0]?.extensions?.code).toBe("CONFG");
    } finally {
      await bare.stop();
    }
  });

  it("reports at start a key that does not match the LiveKit URL", async () => {
    const wrong = await startTestApp(
      {
        LIVEKIT_URL: double.url,
        LIVEKIT_API_KEY: double.apiKey,
        LIVEKIT_API_SECRET: "another-secret-another-secret-another-secret",
        LOG_LEVEL: "error",
      },
      { db: app.db },
    );
    try {
      for (let i = 0; i < 50 && !/do not match LIVEKIT_URL/.test(wrong.output()); i++) await new Promise((r) => setTimeout(r, 100));
      expect(wrong.output()).toMatch(/LIVEKIT_API_KEY\/LIVEKIT_API_SECRET do not match LIVEKIT_URL .*401/);
    } finally {
      await wrong.stop();
    }
  });
});
