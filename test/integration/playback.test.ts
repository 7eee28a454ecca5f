// Viral mode against a local HLS origin: the health check itself, then the worker job in the real
// server (switch only after a passing check; a failing check keeps viewers, alerts and retries).

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPrivateAddress, outboundPolicy } from "../../core/outbound.ts";
import { checkHls } from "../../worker/src/playback/hls_check.ts";
import { startTestApp, type TestApp } from "../support/app.ts";
import { type HlsOrigin, removeGeneratedMedia, startHlsOrigin } from "../support/hls-origin.ts";

let origin: HlsOrigin;
let policy: ReturnType<typeof outboundPolicy>;
beforeAll(async () => {
  origin = await startHlsOrigin();
  policy = outboundPolicy([origin.url]);
});
afterAll(async () => {
  await origin?.close();
  await removeGeneratedMedia();
});

describe("checkHls", () => {
  it("passes a media playlist with a reachable segment", async () => {
    origin.setMode("ok");
    const r = await checkHls(`${origin.url}/live/a/index.m3u8`, { policy });
    expect(r.error).toBeNull();
    expect(r.ok).toBe(true);
    expect(r.detail.kind).toBe("media");
    expect(r.detail.segmentUrl).toMatch(/\/live\/a\/seg\d+\.ts$/);
  });

  it("follows a master playlist to its media playlist", async () => {
    origin.setMode("ok");
    const r = await checkHls(`${origin.url}/live/a/master.m3u8`, { policy });
    expect(r).toMatchObject({ ok: true, detail: { kind: "master", mediaUrl: `${origin.url}/live/a/index.m3u8` } });
  });

  it("fails on a 404 playlist, a non-playlist, an unreachable segment, a closed port", async () => {
    origin.setMode("playlist404");
    expect(await checkHls(`${origin.url}/live/a/index.m3u8`, { policy })).toMatchObject({ ok: false, error: "playlist: HTTP 404" });
    origin.setMode("garbage");
    expect((await checkHls(`${origin.url}/live/a/index.m3u8`, { policy })).error).toMatch(/^playlist: not a parseable M3U8/);
    origin.setMode("segment404");
    expect(await checkHls(`${origin.url}/live/a/master.m3u8`, { policy })).toMatchObject({ ok: false, error: "segment: HTTP 404" });
    origin.setMode("ok");
    const closed = await checkHls("http://127.0.0.1:9/live/a/index.m3u8", {
      policy: outboundPolicy(["http://127.0.0.1:9"]),
      timeoutMs: 2000,
    });
    expect(closed.ok).toBe(false);
    expect(closed.error).toMatch(/^playlist: /);
  });
});

describe("checkHls fetches only what the operator configured (SSRF)", () => {
  let hostile: Server;
  let base: string;
  let slowBody = false;
  beforeAll(async () => {
    hostile = createServer((req, res) => {
      const port = (hostile.address() as AddressInfo).port;
      if (req.url === "/redirect.m3u8") {
        res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/index.m3u8" });
        return res.end();
      }
      if (req.url === "/other-host.m3u8") {
        // Same server, another host name: not the configured one.
        res.writeHead(200, { "content-type": "application/vnd.apple.mpegurl" });
        return res.end(`#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhttp://127.0.0.2:${port}/live/index.m3u8\n`);
      }
      if (req.url === "/huge.m3u8") {
        res.writeHead(200, { "content-type": "application/vnd.apple.mpegurl" });
        res.write("#EXTM3U\n");
        const chunk = `#${"x".repeat(64 * 1024)}\n`;
        const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(chunk)), 5);
        return;
      }
      if (req.url === "/hang.m3u8") {
        res.writeHead(200, { "content-type": "application/vnd.apple.mpegurl" });
        res.write("#EXTM3U\n#EXT-X-TARGETDURATION:2\n"); // and then nothing, ever
        slowBody = true;
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => hostile.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    hostile.closeAllConnections();
    await new Promise((r) => hostile.close(r));
  });

  it("refuses a host nobody configured, and a redirect or variant that leaves the configured host", async () => {
    const p = outboundPolicy([base]);
    expect((await checkHls("http://169.254.169.254/latest/meta-data/x.m3u8", { policy: p })).error).toBe(
      "playlist: host 169.254.169.254 is not a configured origin",
    );
    expect((await checkHls(`${base}/redirect.m3u8`, { policy: p })).error).toBe(
      "playlist: host 169.254.169.254 is not a configured origin",
    );
    expect((await checkHls(`${base}/other-host.m3u8`, { policy: p })).error).toMatch(
      /^media playlist: host 127\.0\.0\.2:\d+ is not a configured origin$/,
    );
  });

  it("reads a body as a stream up to the cap, and cuts off an origin that hangs mid-body", async () => {
    const p = outboundPolicy([base]);
    const t0 = Date.now();
    const huge = await checkHls(`${base}/huge.m3u8`, { policy: p, maxPlaylistBytes: 256 * 1024, timeoutMs: 20_000 });
    expect(huge.error).toBe("playlist: playlist over 262144 bytes");
    expect(Date.now() - t0).toBeLessThan(10_000);
    const hang = await checkHls(`${base}/hang.m3u8`, { policy: p, timeoutMs: 1500 });
    expect(slowBody).toBe(true);
    expect(hang.error).toBe("playlist: no answer within 1500 ms");
  });

  it("private, loopback and link-local addresses are private unless the configured origin is one", () => {
    for (const a of [
      "127.0.0.1",
      "10.1.2.3",
      "172.16.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "::1",
      "fe80::1",
      "fd00::1",
      "::ffff:127.0.0.1",
    ])
      expect(isPrivateAddress(a), a).toBe(true);
    for (const a of ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"]) expect(isPrivateAddress(a), a).toBe(false);
    expect(outboundPolicy(["http://127.0.0.1:8080"]).privateHosts.has("127.0.0.1:8080")).toBe(true);
    expect(outboundPolicy(["https://cdn.example.com"]).privateHosts.size).toBe(0);
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
      { id, p: "origin", path: `/live/${id}/index.m3u8` },
      casterToken,
    );
    expect(conf.errors).toBeUndefined();
    expect(conf.data?.configureStreamPlayback.result.hlsUrl).toBe(`${origin.url}/live/${id}/index.m3u8`);
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
      hlsUrl: `${origin.url}/live/${id}/index.m3u8`,
      hlsReady: true,
      latencyMode: "standard",
      pending: null,
    });
    expect(origin.requests).toContain(`/live/${id}/index.m3u8`);
    const ev = await db.query("select payload from app_private.stream_events where stream_id = $1 and kind = 'stream_state'", [id]);
    expect(ev.rows.map((r) => r.payload.mode)).toEqual(["hls"]);
  });

  it("refuses to switch to a 404 playlist: keeps viewers, alerts, retries until it works", async () => {
    origin.setMode("playlist404");
    const id = await newStream("broken");
    // An admin may ask on any stream.
    await app.gql(CONFIGURE, { id, p: "origin", path: `/live/${id}/index.m3u8` }, adminToken);
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
