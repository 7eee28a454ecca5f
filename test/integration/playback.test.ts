// Viral mode against a local HLS origin: the health check itself, then the worker job in the real
// server (switch only after a passing check; a failing check keeps viewers, alerts and retries).
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkHls } from "../../worker/src/playback/hls_check.ts";
import { startTestApp, type TestApp } from "../support/app.ts";
import { type HlsOrigin, removeGeneratedMedia, startHlsOrigin } from "../support/hls-origin.ts";

let origin: HlsOrigin;
beforeAll(async () => {
  origin = await startHlsOrigin();
});
afterAll(async () => {
  await origin?.close();
  await removeGeneratedMedia();
});

describe("checkHls", () => {
  it("passes a media playlist with a reachable segment", async () => {
    origin.setMode("ok");
    const r = await checkHls(`${origin.url}/live/a/index.m3u8`);
    expect(r.error).toBeNull();
    expect(r.ok).toBe(true);
    expect(r.detail.kind).toBe("media");
    expect(r.detail.segmentUrl).toMatch(/\/live\/a\/seg\d+\.ts$/);
  });

  it("follows a master playlist to its media playlist", async () => {
    origin.setMode("ok");
    const r = await checkHls(`${origin.url}/live/a/master.m3u8`);
    expect(r).toMatchObject({ ok: true, detail: { kind: "master", mediaUrl: `${origin.url}/live/a/index.m3u8` } });
  });

  it("fails on a 404 playlist, a non-playlist, an unreachable segment, a closed port", async () => {
    origin.setMode("playlist404");
    expect(await checkHls(`${origin.url}/live/a/index.m3u8`)).toMatchObject({ ok: false, error: "playlist: HTTP 404" });
    origin.setMode("garbage");
    expect((await checkHls(`${origin.url}/live/a/index.m3u8`)).error).toMatch(/^playlist: not a parseable M3U8/);
    origin.setMode("segment404");
    expect(await checkHls(`${origin.url}/live/a/master.m3u8`)).toMatchObject({ ok: false, error: "segment: HTTP 404" });
    origin.setMode("ok");
    const closed = await checkHls("http://127.0.0.1:9/live/a/index.m3u8", { timeoutMs: 2000 });
    expect(closed.ok).toBe(false);
    expect(closed.error).toMatch(/^playlist: /);
  });
});

describe("viral mode in the server", () => {
  let app: TestApp;
  let db: pg.Client;
  let casterToken = "";
  let adminToken = "";

  const PLAYBACK = `query($id: UUID!) { streamByRowId(rowId: $id) { playback { provider mode hlsUrl hlsReady latencyMode pending } } }`;
  const CONFIGURE = `mutation($id: UUID!, $p: String, $path: String) {
    configureStreamPlayback(input: {streamId: $id, hlsProvider: $p, originPath: $path}) { result { hlsUrl mode } } }`;
  const REQUEST = `mutation($id: UUID!, $mode: String!) { requestViralMode(input: {streamId: $id, mode: $mode}) { result { mode pending } } }`;
  const HEALTH = `{ allPlaybackHealths { nodes { streamId mode pending alerting lastError attempts } } }`;

  async function login(username: string) {
    const r = await app.gql<{ login: { result: string } }>(
      `mutation($u: String!) { login(input: {usernameOrEmail: $u, password: "password"}) { result } }`,
      { u: username },
    );
    expect(r.errors).toBeUndefined();
    return r.data?.login.result ?? "";
  }

  /** A live stream of a new broadcaster (one live stream per broadcaster). */
  async function newStream(title: string): Promise<string> {
    const { rows } = await db.query<{ id: string }>(
      `insert into app_public.streams (broadcaster_id, title) values (tests.create_user('vm_' || $1, 'broadcaster'), $1) returning id`,
      [title],
    );
    return rows[0]?.id ?? "";
  }

  async function playback(id: string) {
    const r = await app.gql<{ streamByRowId: { playback: Record<string, unknown> } }>(PLAYBACK, { id });
    return r.data?.streamByRowId.playback ?? {};
  }

  async function waitFor<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
    const until = Date.now() + ms;
    let v = await fn();
    while (!ok(v)) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(v)}`);
      await new Promise((r) => setTimeout(r, 250));
      v = await fn();
    }
    return v;
  }

  beforeAll(async () => {
    app = await startTestApp({ PLAYBACK_ORIGIN_URL: origin.url });
    db = new pg.Client({ connectionString: app.db.url });
    await db.connect();
    // Retries every second instead of 15 s, so the test sees one.
    await db.query("update app_private.playback_settings set retry_base_seconds = 1, retry_max_seconds = 1");
    await db.query(`select tests.create_user('vm_boss', 'admin')`);
    await newStream("healthy");
    casterToken = await login("vm_healthy");
    adminToken = await login("vm_boss");
  });
  afterAll(async () => {
    await db?.end();
    await app?.stop();
  });

  it("switches a stream to HLS only after the check passed, and announces it", async () => {
    origin.setMode("ok");
    const { rows } = await db.query<{ id: string }>("select id from app_public.streams where title = 'healthy'");
    const id = rows[0]?.id ?? "";
    const conf = await app.gql<{ configureStreamPlayback: { result: { hlsUrl: string } } }>(
      CONFIGURE,
      { id, p: "origin", path: "/live/healthy/index.m3u8" },
      casterToken,
    );
    expect(conf.errors).toBeUndefined();
    expect(conf.data?.configureStreamPlayback.result.hlsUrl).toBe(`${origin.url}/live/healthy/index.m3u8`);
    const req = await app.gql(REQUEST, { id, mode: "hls" }, casterToken);
    expect(req.data).toEqual({ requestViralMode: { result: { mode: "stage", pending: "to_hls" } } });
    const after = await waitFor(
      "the switch",
      () => playback(id),
      (p) => p.mode === "hls",
    );
    expect(after).toEqual({
      provider: "origin",
      mode: "hls",
      hlsUrl: `${origin.url}/live/healthy/index.m3u8`,
      hlsReady: true,
      latencyMode: "standard",
      pending: null,
    });
    expect(origin.requests).toContain("/live/healthy/index.m3u8");
    const ev = await db.query("select payload from app_private.stream_events where stream_id = $1 and kind = 'stream_state'", [id]);
    expect(ev.rows.map((r) => r.payload.mode)).toEqual(["hls"]);
  });

  it("refuses to switch to a 404 playlist: keeps viewers, alerts, retries until it works", async () => {
    origin.setMode("playlist404");
    const id = await newStream("broken");
    // An admin may ask on any stream.
    await app.gql(CONFIGURE, { id, p: "origin", path: "/live/broken/index.m3u8" }, adminToken);
    await app.gql(REQUEST, { id, mode: "hls" }, adminToken);
    type Health = { streamId: string; mode: string; alerting: boolean; lastError: string | null; attempts: number };
    const health = async () => {
      const r = await app.gql<{ allPlaybackHealths: { nodes: Health[] } }>(HEALTH, {}, adminToken);
      return r.data?.allPlaybackHealths.nodes.find((n) => n.streamId === id);
    };
    const failing = await waitFor("a failed check", health, (h) => (h?.attempts ?? 0) >= 2);
    expect(failing).toMatchObject({ mode: "stage", alerting: true, lastError: "playlist: HTTP 404" });
    expect((await playback(id)).mode).toBe("stage");
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/^trollcity_playback_streams_check_failing [1-9]/m);
    const ev = await db.query("select 1 from app_private.stream_events where stream_id = $1 and kind = 'stream_state'", [id]);
    expect(ev.rowCount).toBe(0);

    origin.setMode("ok");
    await waitFor(
      "the retry to pass",
      () => playback(id),
      (p) => p.mode === "hls",
    );
    expect((await health())?.alerting).toBe(false);
  });

  it("switches back to the stage the same way", async () => {
    const { rows } = await db.query<{ id: string }>("select id from app_public.streams where title = 'healthy'");
    const id = rows[0]?.id ?? "";
    const req = await app.gql(REQUEST, { id, mode: "stage" }, casterToken);
    expect(req.data).toEqual({ requestViralMode: { result: { mode: "hls", pending: "to_stage" } } });
    const back = await waitFor(
      "the switch back",
      () => playback(id),
      (p) => p.mode === "stage",
    );
    expect(back).toMatchObject({ provider: "livekit", latencyMode: "low", pending: null });
  });
});
