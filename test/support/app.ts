// Start the real server (web/src/server/main.ts) as a child process on its own cloned database,
// exactly as `npm start` runs it, and talk to it over HTTP.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createTestDatabase, TEST_AUTHENTICATOR_PASSWORD, type TestDatabase } from "./testdb.ts";

export const TEST_JWT_SECRET = "test-jwt-secret-0123456789abcdef0123456789";
const mainPath = fileURLToPath(new URL("../../web/src/server/main.ts", import.meta.url));

export interface TestApp {
  url: string;
  db: TestDatabase;
  proc: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GqlResult<T>>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface GqlResult<T> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: { code?: string; httpStatus?: number } }[];
}

/** `opts.main`: another checkout's web/src/server/main.ts (benchmarks compare a baseline in the same run). */
export async function startTestApp(env: Record<string, string> = {}, opts: { db?: TestDatabase; main?: string } = {}): Promise<TestApp> {
  const db = opts.db ?? (await createTestDatabase());
  const proc = spawn(process.execPath, [opts.main ?? mainPath], {
    env: {
      ...process.env,
      NODE_ENV: "test",
      GRAPHILE_ENV: "development",
      HOST: "127.0.0.1",
      PORT: "0",
      DATABASE_URL: db.url,
      JWT_SECRET: TEST_JWT_SECRET,
      AUTHENTICATOR_PASSWORD: TEST_AUTHENTICATOR_PASSWORD,
      LOG_LEVEL: "warn",
      SEED_DEMO: "never",
      // The demo stream's HLS (features/demo-hls.ts) repoints the origin: only the tests that ask for it.
      DEMO_HLS: "off",
      SEED_DEMO_ACTIVITY: "false",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s:\n${out}`)), 60_000);
    const onData = () => {
      const m = /Troll City is running at (\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout?.on("data", onData);
    proc.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
  const exited = new Promise<void>((resolve) => proc.on("exit", () => resolve()));
  return {
    url,
    db,
    proc,
    output: () => out,
    async gql(query, variables = {}, token) {
      const res = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as GqlResult<never>;
      return { ...body, status: res.status };
    },
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill(signal);
        await exited;
      }
      if (!opts.db) await db.drop();
    },
  };
}
