// docker-compose.yml cannot run here (no Docker engine), so it is kept correct by reading: parsed as
// YAML and checked against the server's own config schema and the contract names.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { CONFIG_KEYS } from "../../core/config.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const read = (p: string) => readFileSync(`${root}/${p}`, "utf8");
interface Service {
  build?: unknown;
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
}
const compose = parse(read("docker-compose.yml"), { merge: true }) as { services: Record<string, Service> };
const svc = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`service ${name} missing`);
  return s;
};
const varsIn = (text: string) => [...text.matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]);

describe("docker-compose.yml", () => {
  it("has postgres (with pgTAP), app, worker, PostgREST and LiveKit", () => {
    expect(Object.keys(compose.services).sort()).toEqual(["app", "db", "livekit", "postgrest", "worker"]);
    expect(read("docker/postgres.Dockerfile")).toMatch(/postgresql-15-pgtap/);
    expect(svc("livekit").command).toContain("--dev");
  });

  it("app and worker only set variables the server knows", () => {
    for (const name of ["app", "worker"]) {
      const env = svc(name).environment ?? {};
      const unknown = Object.keys(env).filter((k) => !CONFIG_KEYS.includes(k));
      expect(unknown, `${name} sets unknown variables`).toEqual([]);
      expect(env.NODE_ENV).toBe("production");
    }
    expect(svc("app").environment?.RUN_WORKER).toBe("false");
    expect(svc("worker").command).toEqual(["node", "worker/src/main.ts"]);
  });

  it("PostgREST serves the same schema with the same roles, JWT secret and audience", () => {
    const app = svc("app").environment ?? {};
    const rest = svc("postgrest").environment ?? {};
    expect(rest.PGRST_DB_SCHEMAS).toBe("app_public");
    expect(rest.PGRST_DB_ANON_ROLE).toBe("anon");
    expect(rest.PGRST_DB_URI).toMatch(/^postgres:\/\/authenticator:/);
    expect(varsIn(rest.PGRST_JWT_SECRET ?? "")).toEqual(varsIn(app.JWT_SECRET ?? ""));
    expect(rest.PGRST_JWT_AUD).toBe(app.JWT_AUDIENCE);
  });

  it("LiveKit runs with the keys the app signs with", () => {
    const app = svc("app").environment ?? {};
    const keys = svc("livekit").environment?.LIVEKIT_KEYS ?? "";
    expect(varsIn(keys)).toEqual([...varsIn(app.LIVEKIT_API_KEY ?? ""), ...varsIn(app.LIVEKIT_API_SECRET ?? "")]);
    expect(app.LIVEKIT_URL).toBe("ws://livekit:7880");
  });

  it("the app waits for a healthy database; every variable it needs is documented", () => {
    expect(svc("app").depends_on?.db?.condition).toBe("service_healthy");
    const documented = read(".env.example");
    for (const v of new Set(varsIn(read("docker-compose.yml")))) expect(documented, `${v} in .env.example`).toContain(v);
  });
});

describe(".env.example", () => {
  it("documents every variable the server reads", () => {
    const documented = read(".env.example");
    const missing = CONFIG_KEYS.filter((k) => !new RegExp(`^#? ?${k}=`, "m").test(documented));
    expect(missing).toEqual([]);
  });
});
