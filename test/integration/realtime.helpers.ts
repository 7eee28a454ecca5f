// Helpers for the realtime and chat integration tests: users with roles, a live stream, and a
// broadcast-socket viewer that records every message it receives.
import pg from "pg";
import WebSocket from "ws";
import type { TestApp } from "../support/app.ts";

export interface User {
  id: string;
  username: string;
  token: string;
}

export async function makeUser(
  app: TestApp,
  username: string,
  opts: { role?: string; displayName?: string; avatarUrl?: string; vehicle?: string } = {},
): Promise<User> {
  const reg = await app.gql<{ register: { result: string } }>(
    "mutation($u: String!, $e: String!, $p: String!) { register(input: {username: $u, email: $e, password: $p}) { result } }",
    { u: username, e: `${username}@example.com`, p: "long enough password" },
  );
  const token = reg.data?.register.result;
  if (!token) throw new Error(`register ${username}: ${JSON.stringify(reg.errors)}`);
  const c = new pg.Client({ connectionString: app.db.url });
  await c.connect();
  try {
    const { rows } = await c.query<{ id: string }>(
      `update app_public.users set role = $2::app_public.app_role, display_name = coalesce($3, display_name),
              avatar_url = $4, vehicle_status = $5
        where username = $1 returning id`,
      [username, opts.role ?? "viewer", opts.displayName ?? null, opts.avatarUrl ?? null, opts.vehicle ?? null],
    );
    return { id: String(rows[0]?.id), username, token };
  } finally {
    await c.end();
  }
}

export async function goLive(app: TestApp, host: User, title: string): Promise<string> {
  const r = await app.gql<{ goLive: { result: { rowId: string } } }>(
    "mutation($t: String!) { goLive(input: {title: $t}) { result { rowId } } }",
    { t: title },
    host.token,
  );
  const id = r.data?.goLive.result.rowId;
  if (!id) throw new Error(`goLive: ${JSON.stringify(r.errors)}`);
  return id;
}

const SEND = `mutation($s: UUID!, $b: String!, $c: String) {
  sendChatMessage(input: {streamId: $s, body: $b, clientId: $c}) { result { rowId body } }
}`;

export async function sendChat(app: TestApp, user: User, streamId: string, body: string, clientId?: string) {
  return await app.gql<{ sendChatMessage: { result: { rowId: string; body: string } } }>(
    SEND,
    { s: streamId, b: body, c: clientId ?? null },
    user.token,
  );
}

export interface Msg {
  type: string;
  stream_id?: string;
  last_id?: number;
  resumed?: boolean;
  viewers?: number;
  chat?: { message_id: number; body: string; sender: Record<string, unknown> }[];
  events?: { id: number; kind: string; at: string; payload?: Record<string, unknown>; truncated?: boolean }[];
}

export type Ev = NonNullable<Msg["events"]>[number];

/** A viewer on the broadcast socket. */
export class Viewer {
  readonly messages: Msg[] = [];
  closeCode: number | null = null;
  ws!: WebSocket;
  private waiters: (() => void)[] = [];

  static async connect(baseUrl: string, streamId: string, after?: number, opts: { localAddress?: string } = {}): Promise<Viewer> {
    const v = new Viewer();
    const url = `${baseUrl.replace(/^http/, "ws")}/broadcast?stream=${streamId}${after !== undefined ? `&after=${after}` : ""}`;
    v.ws = new WebSocket(url, { localAddress: opts.localAddress });
    v.ws.on("message", (data) => {
      v.messages.push(JSON.parse(String(data)) as Msg);
      for (const w of v.waiters.splice(0)) w();
    });
    v.ws.on("close", (code) => {
      v.closeCode = code;
      for (const w of v.waiters.splice(0)) w();
    });
    await new Promise<void>((resolve, reject) => {
      v.ws.once("open", () => resolve());
      v.ws.once("error", reject);
      v.ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    return v;
  }

  /** Every event received so far, in order. */
  events(): Ev[] {
    return this.messages.flatMap((m) => (m.type === "events" ? (m.events ?? []) : []));
  }

  hello(): Msg | undefined {
    return this.messages.find((m) => m.type === "hello");
  }

  lastId(): number {
    const ids = this.events().map((e) => e.id);
    return Math.max(this.hello()?.last_id ?? 0, ...ids);
  }

  async waitFor<T>(probe: () => T | undefined | null | false, what: string, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = probe();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages).slice(0, 2000)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  chatBodies(): string[] {
    return this.events()
      .filter((e) => e.kind === "chat")
      .map((e) => String(e.payload?.body));
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Connect and wait for the hello. */
export async function viewer(baseUrl: string, streamId: string, after?: number): Promise<Viewer> {
  const v = await Viewer.connect(baseUrl, streamId, after);
  await v.waitFor(() => v.hello(), "hello");
  return v;
}
