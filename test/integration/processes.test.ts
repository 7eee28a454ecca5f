// Each part runs alone: the server without a worker is not ready until a separate worker process
// (`npm run worker`) beats; GraphiQL is off outside development.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestApp, TEST_JWT_SECRET, type TestApp } from "../support/app.ts";
import { TEST_AUTHENTICATOR_PASSWORD } from "../support/testdb.ts";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ RUN_WORKER: "false" });
});
afterAll(async () => {
  await app?.stop();
});

async function readyz() {
  const res = await fetch(`${app.url}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

it("server alone is not ready; a separate worker process makes it ready", async () => {
  const before = await readyz();
  expect(before.status).toBe(503);
  expect(before.body).toMatchObject({ database: "ok", migrations: "ok", worker: "no heartbeat yet", settlement: "no batch yet" });

  const worker = spawn(process.execPath, [fileURLToPath(new URL("../../worker/src/main.ts", import.meta.url))], {
    env: {
      ...process.env,
      NODE_ENV: "test",
      DATABASE_URL: app.db.url,
      JWT_SECRET: TEST_JWT_SECRET,
      AUTHENTICATOR_PASSWORD: TEST_AUTHENTICATOR_PASSWORD,
      LOG_LEVEL: "warn",
    },
    stdio: "ignore",
  });
  try {
    let after = before;
    for (let i = 0; i < 80 && after.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 250));
      after = await readyz();
    }
    expect(after).toEqual({
      status: 200,
      body: { status: "ok", database: "ok", migrations: "ok", worker: "ok", settlement: "ok", relay: "ok", listen: "ok" },
    });
  } finally {
    worker.kill("SIGKILL");
  }
});

it("GraphiQL is not served outside development", async () => {
  const res = await fetch(`${app.url}/graphiql`);
  expect(res.status).toBe(404);
});

it("a bad setting stops the process with the variable's name", async () => {
  const p = spawn(process.execPath, [fileURLToPath(new URL("../../web/src/server/main.ts", import.meta.url))], {
    env: { ...process.env, NODE_ENV: "production", JWT_SECRET: "too-short", PORT: "0" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  p.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => p.on("exit", resolve));
  expect(code).toBe(78);
  expect(err).toMatch(/JWT_SECRET: must be at least 32 characters/);
  expect(err).toMatch(/DATABASE_URL: is required in production/);
});
