// Sockets from outside (issue 15, finding 5 and "Sockets"): the GraphQL websocket's message size cap,
// operations per connection, presence counted once per connection and stream, the Origin check on
// both websockets, and per-address caps that see through a trusted proxy and count IPv6 per /64.

import type { IncomingMessage } from "node:http";
import { createClient } from "graphql-ws";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { addressKey, clientAddress, trustedProxies } from "../../web/src/server/client-address.ts";
import { startTestApp, type TestApp } from "../support/app.ts";
import { goLive, makeUser } from "./realtime.helpers.ts";

let app: TestApp;
let streamId = "";
let db: pg.Client;

beforeAll(async () => {
  app = await startTestApp({
    PRESENCE_FLUSH_MS: "200",
    GRAPHQL_WS_MAX_OPERATIONS: "5",
    GRAPHQL_WS_MAX_PER_ADDRESS: "3",
    BROADCAST_MAX_PER_IP: "3",
    TRUSTED_PROXIES: "loopback",
  });
  const host = await makeUser(app, "sock_host", { role: "broadcaster" });
  streamId = await goLive(app, host, "sockets");
  db = new pg.Client({ connectionString: app.db.url });
  await db.connect();
}, 60_000);
afterAll(async () => {
  await db?.end();
  await app?.stop();
  await app?.db.drop();
});

const wsUrl = (path: string) => `${app.url.replace(/^http/, "ws")}${path}`;

/** Open a raw websocket; resolves with it, or with the HTTP status it was refused with. */
function open(path: string, headers: Record<string, string> = {}, protocol?: string): Promise<WebSocket | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(wsUrl(path), protocol ? [protocol] : [], { headers });
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.once("error", () => resolve(0));
  });
}

const SUB = `subscription($s: UUID!) { streamEvents(streamId: $s) { streamId } }`;

describe("the GraphQL websocket", () => {
  it("closes a connection that sends a message over 64 KiB (ws's default would take 100 MiB)", async () => {
    const ws = await open("/graphql", {}, "graphql-transport-ws");
    expect(ws).toBeInstanceOf(WebSocket);
    const sock = ws as WebSocket;
    const closed = new Promise<number>((resolve) => sock.once("close", (code) => resolve(code)));
    sock.send(JSON.stringify({ type: "connection_init", payload: { pad: "x".repeat(100_000) } }));
    expect(await closed).toBe(1009);
  });

  it("refuses more operations at once per connection than configured, and counts one viewer per connection and stream", async () => {
    const client = createClient({ url: wsUrl("/graphql"), webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
    const results: ("ok" | string)[] = [];
    const unsubs: (() => void)[] = [];
    for (let i = 0; i < 7; i++) {
      await new Promise<void>((resolve) => {
        const stop = client.subscribe(
          { query: SUB, variables: { s: streamId } },
          {
            next: () => {},
            error: (e) => {
              results.push(String((e as { message?: string }[])[0]?.message ?? e));
              resolve();
            },
            complete: () => resolve(),
          },
        );
        unsubs.push(stop);
        setTimeout(() => {
          if (results.length <= i) results.push("ok");
          resolve();
        }, 300);
      });
    }
    expect(results.filter((r) => r === "ok").length).toBe(5);
    expect(results.filter((r) => /at most 5 operations at once per connection/.test(r)).length).toBe(2);
    // Five subscriptions of one connection to one stream: one viewer.
    await new Promise((r) => setTimeout(r, 800));
    const { rows } = await db.query<{ n: number }>(
      "select coalesce(sum(viewers), 0)::int as n from app_private.presence_counts where stream_id = $1",
      [streamId],
    );
    expect(rows[0]?.n).toBe(1);
    for (const stop of unsubs) stop();
    await client.dispose();
  });
});

describe("origin check on websocket upgrades", () => {
  it("refuses another site's origin on /graphql and /broadcast, accepts this server's own and none", async () => {
    expect(await open("/graphql", { origin: "https://evil.example" }, "graphql-transport-ws")).toBe(403);
    expect(await open(`/broadcast?stream=${streamId}`, { origin: "https://evil.example" })).toBe(403);
    const own = await open(`/broadcast?stream=${streamId}`, { origin: app.url });
    expect(own).toBeInstanceOf(WebSocket);
    (own as WebSocket).close();
    const none = await open("/graphql", {}, "graphql-transport-ws");
    expect(none).toBeInstanceOf(WebSocket);
    (none as WebSocket).close();
  });
});

describe("per-address caps", () => {
  it("behind a trusted proxy each forwarded client has its own cap; IPv6 counts per /64", async () => {
    const held: WebSocket[] = [];
    const take = async (xff: string) => {
      const r = await open(`/broadcast?stream=${streamId}`, { "x-forwarded-for": xff });
      if (r instanceof WebSocket) held.push(r);
      return r instanceof WebSocket ? 101 : r;
    };
    expect([await take("203.0.113.5"), await take("203.0.113.5"), await take("203.0.113.5")]).toEqual([101, 101, 101]);
    expect(await take("203.0.113.5")).toBe(429);
    expect(await take("198.51.100.7")).toBe(101); // another client behind the same proxy
    expect([await take("2001:db8:1:2::1"), await take("2001:db8:1:2::beef"), await take("2001:db8:1:2:ffff::9")]).toEqual([101, 101, 101]);
    expect(await take("2001:db8:1:2::42")).toBe(429); // the same /64
    expect(await take("2001:db8:1:3::1")).toBe(101); // the next /64
    for (const ws of held) ws.close();
  });

  it("a peer that is not a trusted proxy cannot choose its address with X-Forwarded-For", () => {
    const req = (peer: string, xff?: string) =>
      ({ socket: { remoteAddress: peer }, headers: xff ? { "x-forwarded-for": xff } : {} }) as unknown as IncomingMessage;
    const loopback = trustedProxies("loopback");
    expect(clientAddress(req("203.0.113.9", "1.2.3.4"), loopback)).toBe("203.0.113.9");
    expect(clientAddress(req("127.0.0.1", "1.2.3.4"), loopback)).toBe("1.2.3.4");
    // The right-most untrusted hop: a client's own X-Forwarded-For prefix is ignored.
    expect(clientAddress(req("127.0.0.1", "6.6.6.6, 1.2.3.4"), loopback)).toBe("1.2.3.4");
    expect(clientAddress(req("127.0.0.1", "1.2.3.4"), trustedProxies(undefined))).toBe("127.0.0.1");
  });

  it("address keys: IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 per /64", () => {
    expect(addressKey("203.0.113.5")).toBe("203.0.113.5");
    expect(addressKey("::ffff:203.0.113.5")).toBe("203.0.113.5");
    expect(addressKey("2001:db8:1:2::1")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:0db8:0001:0002:aaaa:bbbb:cccc:dddd")).toBe("2001:db8:1:2::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
  });
});
