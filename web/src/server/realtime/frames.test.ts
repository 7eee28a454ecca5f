// Shared frames of the broadcast socket: a frame written raw to the TCP socket must be what a
// standard websocket client (ws here, browsers in e2e) decodes, deflated or not.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { BROADCAST_DEFLATE, SharedFrame, takesSharedDeflate } from "./frames.ts";

const message = JSON.stringify({
  type: "events",
  events: Array.from({ length: 10 }, (_, i) => ({ id: i, kind: "chat", payload: { body: `hello ${i} ${"é".repeat(i)}` } })),
});
const shared = new SharedFrame(message);

let server: Server;
let url: string;
/** Per connection, whether the server wrote the deflated frame. */
const wroteDeflated: boolean[] = [];
beforeAll(async () => {
  server = createServer();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: BROADCAST_DEFLATE });
  const negotiated = new WeakMap<IncomingMessage, string>();
  wss.on("headers", (headers: string[], req: IncomingMessage) => {
    const h = headers.find((x) => x.toLowerCase().startsWith("sec-websocket-extensions:"));
    if (h) negotiated.set(req, h.slice(h.indexOf(":") + 1).trim());
  });
  server.on("upgrade", (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, () => {
      const deflate = takesSharedDeflate(negotiated.get(req) ?? "");
      wroteDeflated.push(deflate);
      (socket as Socket).write(deflate ? shared.deflated : shared.plain);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  url = `ws://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function receive(opts: WebSocket.ClientOptions): Promise<{ text: string; extensions: string; deflated: boolean | undefined }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts);
    ws.on("message", (data: Buffer) => {
      resolve({ text: data.toString("utf8"), extensions: ws.extensions, deflated: wroteDeflated.at(-1) });
      ws.terminate();
    });
    ws.on("error", reject);
  });
}

describe("shared broadcast frames", () => {
  it("a client that negotiates permessage-deflate decodes the shared deflated frame", async () => {
    const r = await receive({ perMessageDeflate: true });
    expect(r.extensions).toBe("permessage-deflate");
    expect(r.deflated).toBe(true);
    expect(r.text).toBe(message);
    expect(shared.deflated.length).toBeLessThan(shared.plain.length / 2);
  });

  it("a client without compression gets the plain frame", async () => {
    const r = await receive({ perMessageDeflate: false });
    expect(r.extensions).toBe("");
    expect(r.deflated).toBe(false);
    expect(r.text).toBe(message);
  });

  it("a client that limits the server's window gets the plain frame (the shared one needs 15 bits)", async () => {
    const r = await receive({ perMessageDeflate: { serverMaxWindowBits: 10 } });
    expect(r.extensions).toBe("permessage-deflate");
    expect(r.deflated).toBe(false);
    expect(r.text).toBe(message);
  });

  it("decides from the negotiated parameters", () => {
    expect(takesSharedDeflate("permessage-deflate; server_no_context_takeover; client_max_window_bits=15")).toBe(true);
    expect(takesSharedDeflate("permessage-deflate; server_no_context_takeover; server_max_window_bits=10")).toBe(false);
    expect(takesSharedDeflate("permessage-deflate; client_max_window_bits=15")).toBe(false);
    expect(takesSharedDeflate("")).toBe(false);
  });
});
