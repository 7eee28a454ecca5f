// A Mux Video API double: a local HTTP server speaking the live-stream part of Mux's REST API
// (https://docs.mux.com/api-reference/video/live-streams): HTTP Basic auth with an access token id and
// secret, `POST /video/v1/live-streams` (201, `{"data": LiveStream}` with `stream_key` and
// `playback_ids`), `GET /video/v1/live-streams` (list, `limit`/`page`), `GET /video/v1/live-streams/:id`,
// errors `{"error": {"type", "messages"}}` (401 unauthorized, 404 not_found). Records every call and
// can be told to fail. Mux itself is never contacted by the tests.
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export interface MuxLiveStream {
  id: string;
  created_at: string;
  stream_key: string;
  status: "idle" | "active" | "disabled";
  playback_ids: { id: string; policy: "public" | "signed" }[];
  reconnect_window: number;
  latency_mode: string;
  new_asset_settings?: Record<string, unknown>;
  max_continuous_duration: number;
  test?: boolean;
}

export interface MuxCall {
  method: string;
  path: string;
  status: number;
  body: Record<string, unknown> | null;
}

export interface MuxDouble {
  /** http://127.0.0.1:<port> (use as PLAYBACK_MUX_API_URL). */
  url: string;
  tokenId: string;
  tokenSecret: string;
  liveStreams: Map<string, MuxLiveStream>;
  calls: MuxCall[];
  /** The next `times` calls (default: until heal) answer `status` (default 500). */
  fail(spec?: { times?: number; status?: number }): void;
  heal(): void;
  close(): Promise<void>;
}

const muxId = (n = 32) =>
  randomBytes(n)
    .toString("base64")
    .replace(/[^A-Za-z0-9]/g, "")
    .slice(0, n);

export async function startMuxDouble(opts: { tokenId?: string; tokenSecret?: string } = {}): Promise<MuxDouble> {
  const tokenId = opts.tokenId ?? "test-mux-token-id";
  const tokenSecret = opts.tokenSecret ?? "test-mux-token-secret-0123456789";
  const liveStreams = new Map<string, MuxLiveStream>();
  const calls: MuxCall[] = [];
  let failure: { left: number; status: number } | null = null;

  async function readBody(req: IncomingMessage): Promise<Record<string, unknown> | null> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    return text ? (JSON.parse(text) as Record<string, unknown>) : null;
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://mux.invalid");
    const method = req.method ?? "GET";
    let body: Record<string, unknown> | null = null;
    const send = (status: number, out: unknown) => {
      calls.push({ method, path: url.pathname, status, body });
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(out));
    };
    const error = (status: number, type: string, message: string) => send(status, { error: { type, messages: [message] } });
    try {
      body = await readBody(req);
    } catch {
      return error(400, "invalid_parameters", "body is not JSON");
    }
    const basic = /^Basic (\S+)$/.exec(req.headers.authorization ?? "")?.[1];
    const [id, secret] = basic ? Buffer.from(basic, "base64").toString("utf8").split(":") : [];
    if (id !== tokenId || secret !== tokenSecret) return error(401, "unauthorized", "Unauthorized request");
    if (failure && failure.left !== 0) {
      failure.left--;
      return error(failure.status, "internal_error", "told to fail");
    }
    const one = /^\/video\/v1\/live-streams\/([^/]+)$/.exec(url.pathname);
    if (url.pathname === "/video/v1/live-streams" && method === "POST") {
      const policies = (body?.playback_policies ?? body?.playback_policy ?? ["public"]) as string[] | string;
      const policy = (Array.isArray(policies) ? policies[0] : policies) === "signed" ? "signed" : "public";
      const ls: MuxLiveStream = {
        id: muxId(),
        created_at: String(Math.floor(Date.now() / 1000)),
        stream_key: randomUUID(),
        status: "idle",
        playback_ids: [{ id: muxId(), policy }],
        reconnect_window: typeof body?.reconnect_window === "number" ? body.reconnect_window : 60,
        latency_mode: typeof body?.latency_mode === "string" ? body.latency_mode : "standard",
        max_continuous_duration: 43200,
        ...(body?.new_asset_settings ? { new_asset_settings: body.new_asset_settings as Record<string, unknown> } : {}),
        ...(body?.test === true ? { test: true } : {}),
      };
      liveStreams.set(ls.id, ls);
      return send(201, { data: ls });
    }
    if (url.pathname === "/video/v1/live-streams" && method === "GET") {
      const limit = Math.min(100, Number(url.searchParams.get("limit") ?? 25) || 25);
      const page = Math.max(1, Number(url.searchParams.get("page") ?? 1) || 1);
      return send(200, { data: [...liveStreams.values()].slice((page - 1) * limit, page * limit) });
    }
    if (one?.[1] && method === "GET") {
      const ls = liveStreams.get(one[1]);
      if (!ls) return error(404, "not_found", "The requested resource either doesn't exist or you don't have access to it.");
      return send(200, { data: ls });
    }
    if (one?.[1] && method === "DELETE") {
      if (!liveStreams.delete(one[1]))
        return error(404, "not_found", "The requested resource either doesn't exist or you don't have access to it.");
      calls.push({ method, path: url.pathname, status: 204, body });
      res.writeHead(204);
      res.end();
      return;
    }
    return error(404, "not_found", `no route for ${method} ${url.pathname}`);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { type: "internal_error", messages: [String(e)] } }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const addr = server.address();
  return {
    url: `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`,
    tokenId,
    tokenSecret,
    liveStreams,
    calls,
    fail(spec = {}) {
      failure = { left: spec.times ?? -1, status: spec.status ?? 500 };
    },
    heal() {
      failure = null;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
