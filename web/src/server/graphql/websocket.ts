// GraphQL over websockets (graphql-ws on /graphql), with the limits grafserv's own upgrade handler
// does not have: a message size cap (ws's default is 100 MiB), at most N operations in flight per
// connection (subscriptions included), N connections per client address (IPv6 per /64, behind a
// trusted proxy the forwarded address), the Origin check of browser upgrades, and a keepalive ping.
// The execution itself is grafserv's (makeGraphQLWSConfig): the same schema, limits (limits.ts),
// context and error masking as HTTP. docs/security.md ("Sockets").
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { GraphQLError } from "graphql";
import { CloseCode, makeServer, type ServerOptions } from "graphql-ws";
import { makeGraphQLWSConfig } from "postgraphile/grafserv";
import { type WebSocket, WebSocketServer } from "ws";

export interface GraphqlWebsocketOptions {
  /** Largest message a client may send, in bytes. */
  maxMessageBytes: number;
  /** Operations (subscriptions, queries, mutations) one connection may have running at once. */
  maxOperations: number;
  /** Open connections per client address. */
  maxPerAddress: number;
  pingMs: number;
  addressOf(req: IncomingMessage): string;
  originAllowed(req: IncomingMessage): boolean;
}

type Extra = { socket: WebSocket; request: IncomingMessage };

function reject(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-type: text/plain\r\n\r\n${text}\n`);
}

export function makeGraphqlWebsocket(serv: Parameters<typeof makeGraphQLWSConfig>[0], opts: GraphqlWebsocketOptions) {
  const base = makeGraphQLWSConfig(serv) as ServerOptions<Record<string, unknown> | undefined, Extra>;
  const running = new WeakMap<WebSocket, Set<string>>();
  const ops = (ctx: { extra: Extra }) => {
    let set = running.get(ctx.extra.socket);
    if (!set) {
      set = new Set();
      running.set(ctx.extra.socket, set);
    }
    return set;
  };
  const config: ServerOptions<Record<string, unknown> | undefined, Extra> = {
    ...base,
    async onSubscribe(ctx, id, payload) {
      const set = ops(ctx);
      if (set.size >= opts.maxOperations)
        return [
          new GraphQLError(`at most ${opts.maxOperations} operations at once per connection: complete one first`, {
            extensions: { code: "RATEL" },
          }),
        ];
      set.add(id);
      try {
        const result = await base.onSubscribe?.(ctx, id, payload);
        if (Array.isArray(result)) set.delete(id);
        return result;
      } catch (e) {
        set.delete(id);
        throw e;
      }
    },
    onComplete(ctx, id, payload) {
      ops(ctx).delete(id);
      return base.onComplete?.(ctx, id, payload);
    },
    onError(ctx, id, payload, errors) {
      ops(ctx).delete(id);
      return base.onError?.(ctx, id, payload, errors);
    },
  };
  const server = makeServer(config);
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessageBytes });
  const perAddress = new Map<string, number>();
  const alive = new WeakMap<WebSocket, boolean>();
  const sockets = new Set<WebSocket>();

  const pinger = setInterval(() => {
    for (const ws of sockets) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      try {
        ws.ping();
      } catch {
        ws.terminate();
      }
    }
  }, opts.pingMs);
  pinger.unref();

  function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (!opts.originAllowed(req)) {
      reject(socket, 403, "Forbidden: origin not allowed");
      return;
    }
    const address = opts.addressOf(req);
    const n = perAddress.get(address) ?? 0;
    if (n >= opts.maxPerAddress) {
      reject(socket, 429, "Too Many Requests: connection limit per address");
      return;
    }
    perAddress.set(address, n + 1);
    let counted = true;
    const uncount = () => {
      if (!counted) return;
      counted = false;
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    };
    socket.once("close", uncount);
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      alive.set(ws, true);
      // An oversized or malformed frame makes ws emit 'error' and close with 1009/1002: expected, and
      // an 'error' without a listener would end the process.
      ws.on("error", () => ws.terminate());
      ws.on("pong", () => alive.set(ws, true));
      const closed = server.opened(
        {
          protocol: ws.protocol,
          send: (data) =>
            new Promise<void>((resolve, reject) => {
              ws.send(data, (err) => (err ? reject(err) : resolve()));
            }),
          close: (code, reason) => ws.close(code, reason),
          onMessage: (cb) =>
            ws.on("message", async (data) => {
              try {
                await cb(data.toString());
              } catch (err) {
                try {
                  ws.close(CloseCode.InternalServerError, (err as Error).message.slice(0, 100));
                } catch {
                  /* already closed */
                }
              }
            }),
        },
        { socket: ws, request: req },
      );
      ws.once("close", (code, reason) => {
        sockets.delete(ws);
        uncount();
        void closed(code, reason.toString());
      });
    });
  }

  return {
    upgrade,
    async close(): Promise<void> {
      clearInterval(pinger);
      for (const ws of sockets) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
