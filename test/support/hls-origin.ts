// A local HLS origin for tests: ffmpeg makes a short H.264/AAC stream (1 s segments) in a temp dir, and
// an HTTP server serves it as a LIVE stream (a sliding window that grows with wall time, so players
// keep reloading the playlist) at any path prefix: /<anything>/index.m3u8 (media playlist),
// /<anything>/master.m3u8 or any other .m3u8 name such as Mux's /<playback id>.m3u8 (master playlist),
// /<anything>/segNNN.ts. Failure modes can be switched on
// at run time: playlists answer 404, segments answer 404, or playlists answer garbage.
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export type OriginMode = "ok" | "playlist404" | "segment404" | "garbage";

export interface HlsOrigin {
  /** http://127.0.0.1:<port> (no trailing slash). */
  url: string;
  dir: string;
  /** Paths requested so far (for assertions on what the player fetched). */
  requests: string[];
  mode: OriginMode;
  setMode(mode: OriginMode): void;
  close(): Promise<void>;
}

interface Segment {
  file: string;
  duration: number;
}

export interface HlsOriginOptions {
  /** Length of the generated media, in seconds (the live window reaches its end after that). */
  seconds?: number;
  /** Segments in the live window. */
  window?: number;
}

/** Generate the media once per process (ffmpeg takes a second or two) and serve it. */
let generated: Promise<{ dir: string; segments: Segment[]; target: number }> | null = null;

async function generate(seconds: number) {
  const dir = mkdtempSync(join(tmpdir(), "trollcity-hls-"));
  await run(
    "ffmpeg",
    [
      ...["-hide_banner", "-loglevel", "error", "-nostdin"],
      ...["-f", "lavfi", "-i", `testsrc=size=320x180:rate=25:duration=${seconds}`],
      ...["-f", "lavfi", "-i", `sine=frequency=440:sample_rate=44100:duration=${seconds}`],
      ...["-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "baseline", "-pix_fmt", "yuv420p"],
      ...["-g", "25", "-keyint_min", "25", "-sc_threshold", "0", "-threads", "1"],
      ...["-c:a", "aac", "-b:a", "64k", "-ac", "2"],
      ...["-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod", "-hls_segment_filename", join(dir, "seg%03d.ts")],
      join(dir, "vod.m3u8"),
    ],
    { timeout: 120_000 },
  );
  const vod = readFileSync(join(dir, "vod.m3u8"), "utf8").split("\n");
  const segments: Segment[] = [];
  let duration = 0;
  for (const line of vod) {
    const m = /^#EXTINF:([\d.]+)/.exec(line);
    if (m?.[1]) duration = Number(m[1]);
    else if (line.endsWith(".ts")) segments.push({ file: basename(line.trim()), duration });
  }
  if (segments.length < 6) throw new Error(`ffmpeg made only ${segments.length} segments in ${dir}: ${readdirSync(dir).join(", ")}`);
  const target = Math.ceil(Math.max(...segments.map((s) => s.duration)));
  return { dir, segments, target };
}

export async function startHlsOrigin(opts: HlsOriginOptions = {}): Promise<HlsOrigin> {
  const seconds = opts.seconds ?? 60;
  const windowSize = opts.window ?? 4;
  generated ??= generate(seconds);
  const { dir, segments, target } = await generated;
  const t0 = Date.now();
  const requests: string[] = [];
  let mode: OriginMode = "ok";

  function mediaPlaylist(): string {
    // Pretend the stream started `windowSize` segments ago; one more segment per segment duration.
    const elapsed = (Date.now() - t0) / 1000;
    const last = Math.min(segments.length - 1, windowSize - 1 + Math.floor(elapsed / (segments[0]?.duration || 1)));
    const first = Math.max(0, last - windowSize + 1);
    const lines = ["#EXTM3U", "#EXT-X-VERSION:3", `#EXT-X-TARGETDURATION:${target}`, `#EXT-X-MEDIA-SEQUENCE:${first}`];
    for (let i = first; i <= last; i++) {
      const s = segments[i] as Segment;
      lines.push(`#EXTINF:${s.duration.toFixed(6)},`, s.file);
    }
    if (last === segments.length - 1) lines.push("#EXT-X-ENDLIST");
    return `${lines.join("\n")}\n`;
  }

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    requests.push(path);
    const name = basename(path);
    const headers = { "access-control-allow-origin": "*", "cache-control": "no-store" };
    if (req.method === "OPTIONS") {
      res.writeHead(204, { ...headers, "access-control-allow-headers": "*", "access-control-allow-methods": "GET, HEAD" });
      res.end();
      return;
    }
    const notFound = () => {
      res.writeHead(404, { ...headers, "content-type": "text/plain" });
      res.end("not found");
    };
    if (name.endsWith(".m3u8")) {
      if (mode === "playlist404") return notFound();
      let body: string;
      if (mode === "garbage") body = "<html>this is not a playlist</html>";
      else if (name === "index.m3u8") body = mediaPlaylist();
      // master.m3u8, or any other name (Mux's /<playback id>.m3u8): a master playlist for index.m3u8 beside it.
      else body = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=400000,RESOLUTION=320x180\nindex.m3u8\n";
      res.writeHead(200, { ...headers, "content-type": "application/vnd.apple.mpegurl" });
      res.end(body);
      return;
    }
    if (/^seg\d+\.ts$/.test(name)) {
      if (mode === "segment404") return notFound();
      let data: Buffer;
      try {
        data = readFileSync(join(dir, name));
      } catch {
        return notFound();
      }
      res.writeHead(200, { ...headers, "content-type": "video/mp2t", "content-length": data.length });
      res.end(req.method === "HEAD" ? undefined : data);
      return;
    }
    notFound();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    dir,
    requests,
    get mode() {
      return mode;
    },
    set mode(m: OriginMode) {
      mode = m;
    },
    setMode(m) {
      mode = m;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Remove the generated media (call once, after every origin of the process is closed). */
export async function removeGeneratedMedia(): Promise<void> {
  if (!generated) return;
  const { dir } = await generated;
  generated = null;
  rmSync(dir, { recursive: true, force: true });
}
