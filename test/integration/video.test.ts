// Video end to end (issue 13) against local doubles that speak the real wire protocols: the LiveKit
// double (RoomService + Egress Twirp), the Mux double (REST, Basic auth) and the ffmpeg HLS origin.
//  - signed-out viewers get a subscribe-only stage token, rate limited per address;
//  - goLive opens the stream's room through CreateRoom (worker job), endStream deletes it;
//  - going viral starts an egress (HLS to the origin, or RTMP to a Mux live stream), viewers switch
//    only once it is active and the playlist passes the health check; failures (of a start, or of a
//    running egress) are retried with backoff, recorded and counted in /metrics; switching back stops
//    the egress;
//  - wrong keys for LiveKit, Mux and the origin are reported by name at start (log + /readyz).
import { TokenVerifier } from "livekit-server-sdk";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app.ts";
import { type HlsOrigin, removeGeneratedMedia, startHlsOrigin } from "../support/hls-origin.ts";
import { type LivekitDouble, startLivekitDouble } from "../support/livekit-double.ts";
import { type MuxDouble, startMuxDouble } from "../support/mux-double.ts";

let lk: LivekitDouble;
let mux: MuxDouble;
let origin: HlsOrigin;

beforeAll(async () => {
  [lk, mux, origin] = await Promise.all([startLivekitDouble(), startMuxDouble(), startHlsOrigin()]);
});
afterAll(async () => {
  await lk?.close();
  await mux?.close();
  await origin?.close();
  await removeGeneratedMedia();
});

const livekitEnv = () => ({ LIVEKIT_URL: lk.url, LIVEKIT_API_KEY: lk.apiKey, LIVEKIT_API_SECRET: lk.apiSecret });

async function waitFor<T>(what: string, fn: () => Promise<T> | T, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  let v = await fn();
  while (!ok(v)) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
    v = await fn();
  }
  return v;
}

async function login(app: TestApp, username: string): Promise<string> {
  const r = await app.gql<{ login: { result: string } }>(
    `mutation($u: String!) { login(input: {usernameOrEmail: $u, password: "password"}) { result } }`,
    { u: username },
  );
  expect(r.errors).toBeUndefined();
  return r.data?.login.result ?? "";
}

const GO_LIVE = `mutation($t: String!) { goLive(input: {title: $t}) { result { rowId } } }`;
const END = `mutation($id: UUID!) { endStream(input: {streamId: $id}) { result { status } } }`;
const REQUEST = `mutation($id: UUID!, $mode: String!) { requestViralMode(input: {streamId: $id, mode: $mode}) { result { mode pending } } }`;
const PLAYBACK = `query($id: UUID!) { streamByRowId(rowId: $id) { playback { provider mode hlsUrl pending } } }`;

describe("with LiveKit (egress to the HLS origin)", () => {
  let app: TestApp;
  let db: pg.Client;
  let verifier: TokenVerifier;

  beforeAll(async () => {
    app = await startTestApp({ ...livekitEnv(), PLAYBACK_ORIGIN_URL: origin.url });
    db = new pg.Client({ connectionString: app.db.url });
    await db.connect();
    await db.query("update app_private.playback_settings set retry_base_seconds = 1, retry_max_seconds = 1");
    verifier = new TokenVerifier(lk.apiKey, lk.apiSecret);
  });
  afterAll(async () => {
    await db?.end();
    await app?.stop();
  });

  async function broadcaster(name: string) {
    await db.query("select tests.create_user($1, 'broadcaster')", [name]);
    const token = await login(app, name);
    const r = await app.gql<{ goLive: { result: { rowId: string } } }>(GO_LIVE, { t: `${name}'s show` }, token);
    expect(r.errors).toBeUndefined();
    return { token, streamId: r.data?.goLive.result.rowId ?? "" };
  }

  const playback = async (id: string) =>
    (await app.gql<{ streamByRowId: { playback: Record<string, unknown> } }>(PLAYBACK, { id })).data?.streamByRowId.playback ?? {};
  const egressRows = async (id: string) =>
    (
      await db.query<{ state: string; failures: number; last_error: string | null; egress_id: string | null }>(
        "select state, failures, last_error, egress_id from app_private.stream_egresses where stream_id = $1 order by created_at",
        [id],
      )
    ).rows;

  it("goLive opens the room (CreateRoom with limits), the broadcaster publishes, endStream deletes the room", async () => {
    const { token, streamId } = await broadcaster("vid_caster");
    const create = await lk.waitForCall((c) => c.method === "CreateRoom" && c.body.name === streamId, 15_000);
    expect(create.status).toBe(200);
    expect(create.body).toMatchObject({ name: streamId, emptyTimeout: 300, departureTimeout: 20 });
    expect(Number(create.body.maxParticipants)).toBeGreaterThan(1000);
    expect(lk.rooms.has(streamId)).toBe(true);

    const res = await fetch(`${app.url}/livekit-token`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ streamId }),
    });
    const claims = await verifier.verify(((await res.json()) as { token: string }).token);
    expect(claims.video).toMatchObject({ room: streamId, canPublish: true, canSubscribe: true });

    const end = await app.gql(END, { id: streamId }, token);
    expect(end.errors).toBeUndefined();
    await lk.waitForCall((c) => c.method === "DeleteRoom" && c.body.room === streamId, 15_000);
    expect(lk.rooms.has(streamId)).toBe(false);
  });

  it("signed-out viewers get a subscribe-only token (HTTP and GraphQL), rate limited per address", async () => {
    const { streamId } = await broadcaster("vid_anon_host");
    const res = await fetch(`${app.url}/livekit-token`, { method: "POST", body: JSON.stringify({ streamId }) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { token: string; identity: string; grant: Record<string, boolean> };
    const claims = await verifier.verify(body.token);
    expect(claims.sub).toMatch(/^anon-[0-9a-f]{20}$/);
    expect(claims.video).toMatchObject({ room: streamId, roomJoin: true, canPublish: false, canPublishData: false, canSubscribe: true });
    expect(claims.video?.roomAdmin).toBeFalsy();
    expect(Number(claims.exp) - Number(claims.nbf ?? claims.iat)).toBeLessThanOrEqual(300);
    // LiveKit admits it as a watcher: it cannot publish, and the server's webhook check leaves it be.
    lk.webhookUrl = `${app.url}/webhooks/livekit`;
    try {
      await lk.join(body.token);
      expect(await lk.publish(streamId, String(claims.sub))).toBe(false);
      const hook = await lk.sendWebhook({
        event: "participant_joined",
        room: { name: streamId },
        participant: { identity: claims.sub, permission: { canSubscribe: true, canPublish: false, canPublishData: false } },
      });
      expect(await hook.json()).toMatchObject({ ok: true, action: "ok" });
      expect(lk.rooms.get(streamId)?.has(String(claims.sub))).toBe(true);
      expect(lk.calls.some((c) => c.method === "RemoveParticipant" && c.body.identity === claims.sub)).toBe(false);
    } finally {
      lk.webhookUrl = null;
    }

    const g = await app.gql<{ livekitToken: { token: string; identity: string; canPublish: boolean } }>(
      `mutation($s: UUID!) { livekitToken(input: {streamId: $s}) { token identity canPublish canSubscribe canPublishData } }`,
      { s: streamId },
    );
    expect(g.errors).toBeUndefined();
    expect(g.data?.livekitToken).toMatchObject({ canPublish: false, canSubscribe: true, canPublishData: false });
    const gc = await verifier.verify(g.data?.livekitToken.token ?? "");
    expect(gc.video).toMatchObject({ canPublish: false, canPublishData: false, canSubscribe: true });
    expect(gc.sub).not.toBe(claims.sub);

    // 20 per address (two used above), then 429 RATEL with Retry-After.
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++)
      statuses.push((await fetch(`${app.url}/livekit-token`, { method: "POST", body: JSON.stringify({ streamId }) })).status);
    expect(statuses.filter((s) => s === 200).length).toBe(18);
    const limited = await fetch(`${app.url}/livekit-token`, { method: "POST", body: JSON.stringify({ streamId }) });
    expect(limited.status).toBe(429);
    expect(await limited.json()).toMatchObject({ error: { code: "RATEL" } });
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("goes viral through an egress: waits for it, switches after the check, retries failures, stops on the way back", async () => {
    const { token, streamId } = await broadcaster("vid_viral");
    await lk.waitForCall((c) => c.method === "CreateRoom" && c.body.name === streamId, 15_000);

    // 1. The egress is held in EGRESS_STARTING: the origin answers, yet nobody is switched.
    lk.egressMode = "hold";
    const req = await app.gql(REQUEST, { id: streamId, mode: "hls" }, token);
    expect(req.errors).toBeUndefined();
    const start = await lk.waitForCall((c) => c.method === "StartRoomCompositeEgress" && c.body.roomName === streamId, 15_000);
    expect(start.status).toBe(200);
    expect(start.body.segmentOutputs).toEqual([
      expect.objectContaining({ livePlaylistName: `live/${streamId}/index.m3u8`, filenamePrefix: `live/${streamId}/seg` }),
    ]);
    await new Promise((r) => setTimeout(r, 4000));
    expect(await playback(streamId)).toMatchObject({ mode: "stage", pending: "to_hls" });
    expect((await egressRows(streamId))[0]?.state).toBe("starting");

    // 2. That egress dies (EGRESS_FAILED): recorded, retried with backoff, still nobody switched.
    lk.egressMode = "fail";
    const first = [...lk.egresses.values()].find((e) => e.roomName === streamId);
    lk.failEgress(first?.egressId ?? "", "encoder crashed");
    await waitFor(
      "a recorded failure",
      () => egressRows(streamId),
      (r) => (r[0]?.failures ?? 0) >= 1,
    );
    expect((await egressRows(streamId))[0]).toMatchObject({ last_error: expect.stringContaining("encoder crashed") });
    await waitFor(
      "a second failure (the retry, after backoff)",
      () => egressRows(streamId),
      (r) => (r[0]?.failures ?? 0) >= 2,
      30_000,
    );
    expect(await playback(streamId)).toMatchObject({ mode: "stage" });
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/^trollcity_egress_failures [1-9]/m);
    const events = await db.query("select 1 from app_private.stream_events where stream_id = $1 and kind = 'stream_state'", [streamId]);
    expect(events.rowCount).toBe(0);

    // 3. LiveKit recovers: the next retry becomes active, the playlist is checked, viewers switch.
    lk.egressMode = "ok";
    const after = await waitFor(
      "the switch",
      () => playback(streamId),
      (p) => p.mode === "hls",
      60_000,
    );
    expect(after).toMatchObject({ provider: "origin", hlsUrl: `${origin.url}/live/${streamId}/index.m3u8`, pending: null });
    const active = (await egressRows(streamId)).find((r) => r.state === "active");
    expect(active?.egress_id).toBeTruthy();
    expect(lk.egresses.get(active?.egress_id ?? "")?.status).toBe("EGRESS_ACTIVE");
    expect(origin.requests).toContain(`/live/${streamId}/index.m3u8`);
    expect(await (await fetch(`${app.url}/metrics`)).text()).toMatch(/^trollcity_egress_active 1/m);

    // 4. The running egress dies: the watch notices, it is restarted (viewers stay on HLS meanwhile).
    const failuresBefore = (await egressRows(streamId))[0]?.failures ?? 0;
    lk.failEgress(active?.egress_id ?? "", "egress node lost");
    await waitFor(
      "a restarted egress",
      () => egressRows(streamId),
      (r) => r[0]?.state === "active" && r[0]?.egress_id !== active?.egress_id,
      30_000,
    );
    const restarted = (await egressRows(streamId))[0];
    expect(restarted).toMatchObject({ failures: failuresBefore + 1 });
    expect(lk.egresses.get(restarted?.egress_id ?? "")?.status).toBe("EGRESS_ACTIVE");
    expect(await playback(streamId)).toMatchObject({ mode: "hls" });

    // 5. Back to the stage: the egress is stopped (StopEgress) and recorded as stopped.
    const back = await app.gql(REQUEST, { id: streamId, mode: "stage" }, token);
    expect(back.errors).toBeUndefined();
    await lk.waitForCall((c) => c.method === "StopEgress" && c.body.egressId === restarted?.egress_id, 15_000);
    await waitFor(
      "stopped",
      () => egressRows(streamId),
      (r) => r.every((x) => x.state === "stopped"),
    );
    expect(await playback(streamId)).toMatchObject({ mode: "stage" });
    await waitFor(
      "EGRESS_COMPLETE",
      () => lk.egresses.get(restarted?.egress_id ?? "")?.status,
      (s) => s === "EGRESS_COMPLETE",
    );
  }, 120_000);
});

describe("with LiveKit and Mux (RTMP egress to a Mux live stream)", () => {
  let app: TestApp;
  let db: pg.Client;

  beforeAll(async () => {
    app = await startTestApp({
      ...livekitEnv(),
      PLAYBACK_MUX_TOKEN_ID: mux.tokenId,
      PLAYBACK_MUX_TOKEN_SECRET: mux.tokenSecret,
      PLAYBACK_MUX_API_URL: mux.url,
      PLAYBACK_MUX_RTMP_URL: "rtmp://127.0.0.1:1935/app",
      // Mux's playback host is the local origin here: https://stream.mux.com/<id>.m3u8 becomes <origin>/<id>.m3u8.
      PLAYBACK_MUX_URL: origin.url,
    });
    db = new pg.Client({ connectionString: app.db.url });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await app?.stop();
  });

  it("creates the Mux live stream once, pushes RTMP to it, stores its playback id and reuses it", async () => {
    origin.setMode("ok");
    lk.egressMode = "ok";
    await db.query("select tests.create_user('vid_mux', 'broadcaster')");
    const token = await login(app, "vid_mux");
    const live = await app.gql<{ goLive: { result: { rowId: string } } }>(GO_LIVE, { t: "mux show" }, token);
    const streamId = live.data?.goLive.result.rowId ?? "";
    await lk.waitForCall((c) => c.method === "CreateRoom" && c.body.name === streamId, 15_000);
    const before = mux.calls.filter((c) => c.method === "POST").length;

    expect((await app.gql(REQUEST, { id: streamId, mode: "hls" }, token)).errors).toBeUndefined();
    const start = await lk.waitForCall((c) => c.method === "StartRoomCompositeEgress" && c.body.roomName === streamId, 15_000);
    expect(mux.calls.filter((c) => c.method === "POST" && c.path === "/video/v1/live-streams").length).toBe(before + 1);
    const ls = [...mux.liveStreams.values()].at(-1);
    expect(start.body.streamOutputs).toEqual([
      expect.objectContaining({ protocol: "RTMP", urls: [`rtmp://127.0.0.1:1935/app/${ls?.stream_key}`] }),
    ]);
    const pid = ls?.playback_ids[0]?.id;
    const pb = await waitFor(
      "the switch",
      async () =>
        (await app.gql<{ streamByRowId: { playback: Record<string, unknown> } }>(PLAYBACK, { id: streamId })).data?.streamByRowId
          .playback ?? {},
      (p) => p.mode === "hls",
      30_000,
    );
    expect(pb).toMatchObject({ provider: "mux", hlsUrl: `${origin.url}/${pid}.m3u8` });
    const row = (
      await db.query("select mux_live_stream_id, mux_playback_id from app_private.stream_egresses where stream_id = $1", [streamId])
    ).rows[0];
    expect(row).toEqual({ mux_live_stream_id: ls?.id, mux_playback_id: pid });

    // Back to the stage and viral again: the same Mux live stream (GET, no second POST).
    await app.gql(REQUEST, { id: streamId, mode: "stage" }, token);
    await waitFor(
      "stopped",
      async () => (await db.query("select state from app_private.stream_egresses where stream_id = $1", [streamId])).rows,
      (r) => r.every((x) => x.state === "stopped"),
    );
    await app.gql(REQUEST, { id: streamId, mode: "hls" }, token);
    await waitFor(
      "the second egress",
      () => [...lk.egresses.values()].filter((e) => e.roomName === streamId).length,
      (n) => n === 2,
    );
    expect(mux.calls.filter((c) => c.method === "POST").length).toBe(before + 1);
    expect(mux.calls.some((c) => c.method === "GET" && c.path === `/video/v1/live-streams/${ls?.id}`)).toBe(true);
  }, 90_000);
});

describe("keys checked at start", () => {
  it("reports wrong LiveKit and Mux keys and an unreachable origin by name (log and /readyz)", async () => {
    const app = await startTestApp({
      LIVEKIT_URL: lk.url,
      LIVEKIT_API_KEY: lk.apiKey,
      LIVEKIT_API_SECRET: "not-the-livekit-secret-not-the-livekit-secret",
      PLAYBACK_MUX_TOKEN_ID: mux.tokenId,
      PLAYBACK_MUX_TOKEN_SECRET: "not-the-mux-secret",
      PLAYBACK_MUX_API_URL: mux.url,
      PLAYBACK_ORIGIN_URL: "http://127.0.0.1:9/origin",
      PLAYBACK_CDN_URL: origin.url,
      LOG_LEVEL: "error",
    });
    try {
      const services = await waitFor(
        "the checks",
        async () => ((await (await fetch(`${app.url}/readyz`)).json()) as { services?: Record<string, string> }).services ?? {},
        (s) => Object.values(s).every((v) => v !== "checking"),
      );
      expect(services).toMatchObject({
        livekit: "LIVEKIT_API_KEY/LIVEKIT_API_SECRET rejected (401)",
        mux: "PLAYBACK_MUX_TOKEN_ID/PLAYBACK_MUX_TOKEN_SECRET rejected (401)",
        origin: expect.stringMatching(/^PLAYBACK_ORIGIN_URL unreachable/),
        cdn: "ok",
      });
      const out = app.output();
      expect(out).toMatch(/LIVEKIT_API_KEY\/LIVEKIT_API_SECRET do not match LIVEKIT_URL/);
      expect(out).toMatch(/PLAYBACK_MUX_TOKEN_ID\/PLAYBACK_MUX_TOKEN_SECRET were refused/);
      expect(out).toMatch(/PLAYBACK_ORIGIN_URL \(http:\/\/127\.0\.0\.1:9\/origin\) is unreachable/);
    } finally {
      await app.stop();
    }
    // And the right keys pass.
    const good = await startTestApp({
      ...livekitEnv(),
      PLAYBACK_MUX_TOKEN_ID: mux.tokenId,
      PLAYBACK_MUX_TOKEN_SECRET: mux.tokenSecret,
      PLAYBACK_MUX_API_URL: mux.url,
      PLAYBACK_ORIGIN_URL: origin.url,
    });
    try {
      const services = await waitFor(
        "the checks",
        async () => ((await (await fetch(`${good.url}/readyz`)).json()) as { services?: Record<string, string> }).services ?? {},
        (s) => Object.values(s).every((v) => v !== "checking"),
      );
      expect(services).toEqual({ livekit: "ok", mux: "ok", origin: "ok" }); // the CDN is not configured: not listed
      expect(mux.calls.some((c) => c.method === "GET" && c.path === "/video/v1/live-streams" && c.status === 200)).toBe(true);
    } finally {
      await good.stop();
    }
  }, 60_000);
});
