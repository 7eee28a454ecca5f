// Configuration is validated once at start: bad settings name the variable and how to fix it.
import { describe, expect, it } from "vitest";
import { ConfigError, DEV_JWT_SECRET, loadConfig } from "../../core/config.ts";

const prod = {
  NODE_ENV: "production",
  DATABASE_URL: "postgres://owner:pw@db:5432/trollcity",
  JWT_SECRET: "a-real-secret-that-is-long-enough-0123456789",
  AUTHENTICATOR_PASSWORD: "a-real-authenticator-password",
};

function errorOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("config", () => {
  it("has working development defaults", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ NODE_ENV: "development", HOST: "127.0.0.1", PORT: 3000, graphiql: true, isProduction: false });
    expect(c.DATABASE_URL).toBeUndefined();
  });

  it("never echoes a malformed DATABASE_URL (it may carry a password), and refuses SEED_DEMO=always in production", () => {
    const msg = errorOf({ DATABASE_URL: "postgres//owner:s3cr3t-pw@db:5432/x" });
    expect(msg).toMatch(/DATABASE_URL/);
    expect(msg).not.toMatch(/s3cr3t-pw/);
    expect(errorOf({ ...prod, SEED_DEMO: "always" })).toMatch(/SEED_DEMO: must not be `always` in production/);
    expect(loadConfig({ ...prod, SEED_DEMO: "auto" }).SEED_DEMO).toBe("auto");
  });

  it("turns introspection off in production (NODE_ENV or GRAPHILE_ENV) unless configured on", () => {
    expect(loadConfig({}).introspection).toBe(true);
    expect(loadConfig({ GRAPHILE_ENV: "production" })).toMatchObject({ introspection: false, graphiql: false });
    expect(loadConfig(prod).introspection).toBe(false);
    expect(loadConfig({ ...prod, GRAPHQL_INTROSPECTION: "true" }).introspection).toBe(true);
  });

  it("names a malformed variable, its value and the fix", () => {
    expect(errorOf({ PORT: "eighty" })).toMatch(/PORT: .*\(got "eighty"\)/);
    expect(errorOf({ DATABASE_URL: "mysql://x@y/z" })).toMatch(/DATABASE_URL: must start with postgres:\/\//);
    expect(errorOf({ JWT_SECRET: "short" })).toMatch(/JWT_SECRET: must be at least 32 characters/);
    expect(errorOf({ JWT_SECRET: "short" })).not.toContain('"short"'); // secrets are never echoed
  });

  it("refuses development defaults in production", () => {
    expect(() => loadConfig(prod)).not.toThrow();
    expect(errorOf({ ...prod, JWT_SECRET: DEV_JWT_SECRET })).toMatch(/JWT_SECRET: is the development default/);
    expect(errorOf({ ...prod, AUTHENTICATOR_PASSWORD: "dev-only-authenticator-password" })).toMatch(/AUTHENTICATOR_PASSWORD/);
    expect(errorOf({ ...prod, DATABASE_URL: "" })).toMatch(/DATABASE_URL: is required in production/);
    expect(loadConfig(prod).graphiql).toBe(false);
  });

  it("reports a LiveKit key without its secret or URL, and a shared secret", () => {
    const msg = errorOf({ LIVEKIT_API_KEY: "APIabc" });
    expect(msg).toMatch(/LIVEKIT_API_SECRET: is required when any LIVEKIT_\* variable is set/);
    expect(msg).toMatch(/LIVEKIT_URL: is required/);
    expect(errorOf({ LIVEKIT_URL: "ftp://lk", LIVEKIT_API_KEY: "APIabc", LIVEKIT_API_SECRET: "x".repeat(40) })).toMatch(
      /LIVEKIT_URL: must be a ws/,
    );
    const secret = "s".repeat(40);
    expect(errorOf({ JWT_SECRET: secret, LIVEKIT_URL: "ws://lk:7880", LIVEKIT_API_KEY: "APIabc", LIVEKIT_API_SECRET: secret })).toMatch(
      /JWT_SECRET: must not be the LiveKit secret/,
    );
  });
});
