// The demo stream's picture on a default start (no external service): an HLS test stream made once
// with ffmpeg (the system's when there is one, else the binary @ffmpeg-installer/ffmpeg ships) into
// DEMO_HLS_DIR, served by this server as a never-ending live stream at /demo-hls/demo/index.m3u8 (the
// ten 2-second segments loop, with a discontinuity at each wrap). The playback origin is pointed here
// (PLAYBACK_ORIGIN_URL unset) and the demo stream is asked onto HLS, so the worker's health check
// passes and a signed-out newcomer sees a moving picture. On unless production or DEMO_HLS=off.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { allowOrigin } from "../../../../core/outbound.ts";
import { seedDemoPlayback } from "../../../../db/seed.ts";
import { json } from "../http.ts";
import type { FeatureFactory, Route } from "./types.ts";

export const DEMO_SEGMENTS = 10;
export const DEMO_SEGMENT_SECONDS = 2;
const WINDOW = 5;

async function ffmpegPath(): Promise<string> {
  if (spawnSync("ffmpeg", ["-version"], { stdio: "ignore" }).status === 0) return "ffmpeg";
  const mod = (await import("@ffmpeg-installer/ffmpeg")) as { path?: string; default?: { path: string } };
  const path = mod.path ?? mod.default?.path;
  if (!path) throw new Error("no ffmpeg: install one, or npm ci (@ffmpeg-installer/ffmpeg)");
  return path;
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((ok, fail) => {
    const p = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    p.on("error", fail);
    p.on("close", (code) => (code === 0 ? ok() : fail(new Error(`ffmpeg exited with ${code}: ${err.slice(-500)}`))));
  });
}

/** Make the media once (a finished directory has segments.json); concurrent starts each make their own and one wins. */
async function ensureMedia(dir: string): Promise<{ durations: number[] }> {
  const index = join(dir, "segments.json");
  if (existsSync(index)) return JSON.parse(readFileSync(index, "utf8")) as { durations: number[] };
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  try {
    const seconds = DEMO_SEGMENTS * DEMO_SEGMENT_SECONDS;
    const rate = 25;
    await run(await ffmpegPath(), [
      ...["-hide_banner", "-loglevel", "error", "-nostdin", "-y"],
      ...["-f", "lavfi", "-i", `testsrc=size=640x360:rate=${rate}:duration=${seconds}`],
      ...["-f", "lavfi", "-i", `sine=frequency=440:beep_factor=4:sample_rate=44100:duration=${seconds}`],
      ...["-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "baseline", "-pix_fmt", "yuv420p"],
      ...[
        "-g",
        String(rate * DEMO_SEGMENT_SECONDS),
        "-keyint_min",
        String(rate * DEMO_SEGMENT_SECONDS),
        "-sc_threshold",
        "0",
        "-threads",
        "1",
      ],
      ...["-c:a", "aac", "-b:a", "64k", "-ac", "2"],
      ...["-f", "hls", "-hls_time", String(DEMO_SEGMENT_SECONDS), "-hls_playlist_type", "vod"],
      ...["-hls_segment_filename", join(tmp, "seg%03d.ts"), join(tmp, "vod.m3u8")],
    ]);
    const durations: number[] = [];
    for (const line of readFileSync(join(tmp, "vod.m3u8"), "utf8").split("\n")) {
      const m = /^#EXTINF:([\d.]+)/.exec(line);
      if (m?.[1]) durations.push(Number(m[1]));
    }
    if (durations.length !== DEMO_SEGMENTS) throw new Error(`ffmpeg made ${durations.length} segments, expected ${DEMO_SEGMENTS}`);
    writeFileSync(join(tmp, "segments.json"), JSON.stringify({ durations }));
    try {
      renameSync(tmp, dir);
    } catch {
      // Another process finished first: use its copy.
      rmSync(tmp, { recursive: true, force: true });
    }
    return JSON.parse(readFileSync(index, "utf8")) as { durations: number[] };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** The live playlist at `now`: the last WINDOW segments of an endless loop over the media. */
export function demoPlaylist(durations: number[], t0: number, now: number): string {
  const n = durations.length;
  const last = WINDOW - 1 + Math.floor((now - t0) / 1000 / DEMO_SEGMENT_SECONDS);
  const first = last - WINDOW + 1;
  const lines = [
    "#EXTM3U",
    "#EXT-X-VERSION:3",
    `#EXT-X-TARGETDURATION:${Math.ceil(Math.max(...durations))}`,
    `#EXT-X-MEDIA-SEQUENCE:${first}`,
    // Segment i belongs to discontinuity floor(i / n): the first one listed carries no tag.
    `#EXT-X-DISCONTINUITY-SEQUENCE:${Math.floor(first / n)}`,
  ];
  for (let i = first; i <= last; i++) {
    if (i > first && i % n === 0) lines.push("#EXT-X-DISCONTINUITY");
    lines.push(`#EXTINF:${(durations[i % n] ?? DEMO_SEGMENT_SECONDS).toFixed(6)},`, `seg${String(i % n).padStart(3, "0")}.ts`);
  }
  return `${lines.join("\n")}\n`;
}

export const demoHlsFeature: FeatureFactory = async (ctx) => {
  const { config, logger, ownerPool } = ctx;
  const enabled = config.DEMO_HLS === "on" || (config.DEMO_HLS === "auto" && !config.isProduction && !config.PLAYBACK_ORIGIN_URL);
  if (!enabled) return { name: "demo-hls" };
  const dir = resolve(config.DEMO_HLS_DIR);
  const t0 = Date.now();
  let media: { durations: number[] } | null = null;
  const making = ensureMedia(dir).then(
    (m) => {
      media = m;
      logger.info({ dir }, "demo HLS ready at /demo-hls/demo/index.m3u8");
    },
    (e: Error) => logger.error({ err: e, dir }, `demo HLS could not be made (the demo stream stays on the stage): ${e.message}`),
  );
  const headers = { "access-control-allow-origin": "*", "cache-control": "no-store" };
  const routes: Route[] = [
    {
      method: "GET",
      path: "/demo-hls/demo/index.m3u8",
      async handle(_req, res) {
        if (!media) return json(res, 503, { error: "the demo stream is being made" });
        res.writeHead(200, { ...headers, "content-type": "application/vnd.apple.mpegurl" });
        res.end(demoPlaylist(media.durations, t0, Date.now()));
      },
    },
    ...Array.from({ length: DEMO_SEGMENTS }, (_, i): Route => {
      const name = `seg${String(i).padStart(3, "0")}.ts`;
      return {
        method: "GET",
        path: `/demo-hls/demo/${name}`,
        async handle(_req, res) {
          if (!media) return json(res, 503, { error: "the demo stream is being made" });
          const data = readFileSync(join(dir, name));
          res.writeHead(200, { ...headers, "content-type": "video/mp2t", "content-length": data.length, "cache-control": "max-age=3600" });
          res.end(data);
        },
      };
    }),
  ];
  return {
    name: "demo-hls",
    routes,
    async listening(url) {
      if (config.PLAYBACK_ORIGIN_URL) return; // DEMO_HLS=on with a real origin: serve, do not repoint
      try {
        // This server is the origin now; the demo stream is asked onto HLS (the worker checks first).
        allowOrigin(ctx.outbound, url);
        await ownerPool.query("select app_private.configure_playback($1, $2, $3, null, $4, $5)", [
          `${url}/demo-hls`,
          config.PLAYBACK_CDN_URL ?? null,
          config.PLAYBACK_MUX_URL,
          config.VIRAL_ENTER_VIEWERS,
          config.VIRAL_EXIT_VIEWERS,
        ]);
        await seedDemoPlayback(ownerPool);
      } catch (e) {
        if ((e as { code?: string }).code !== "42883") throw e; // playback not migrated (partial test setups)
      }
    },
    async stop() {
      await making;
    },
  };
};
