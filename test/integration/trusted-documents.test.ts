// Trusted documents (docs/security.md, "GraphQL requests"): in production a browser request (an
// Origin header or the session cookie) runs only the web app's own documents, collected from its
// sources at build (scripts/trusted-documents.ts); other clients may still send any document.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectTrustedDocuments, sha256 } from "../../scripts/trusted-documents.ts";
import { startTestApp, type TestApp } from "../support/app.ts";

const { manifest, calls } = collectTrustedDocuments();
const LIVE = Object.values(manifest).find((d) => /^query \w+ \{\s*liveStreams/.test(d)) ?? "";
const ARBITRARY = "{ liveStreams(first: 1) { nodes { rowId } } }";

let prod: TestApp;

beforeAll(async () => {
  const file = join(mkdtempSync(join(tmpdir(), "tc-td-")), "trusted-documents.json");
  writeFileSync(file, JSON.stringify(manifest));
  // As `npm start` runs it: GRAPHILE_ENV=production, TRUSTED_DOCUMENTS unset (auto).
  prod = await startTestApp({ GRAPHILE_ENV: "production", TRUSTED_DOCUMENTS_FILE: file });
}, 90_000);
afterAll(async () => {
  await prod?.stop();
  await prod?.db.drop();
});

async function post(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const res = await fetch(`${prod.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    ...((await res.json()) as { data?: Record<string, unknown>; errors?: { message: string; extensions?: { code?: string } }[] }),
  };
}

const browser = { origin: "http://example.test" };
const persisted = (query: string) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query) } } });

describe("trusted documents in production", () => {
  it("refuses an arbitrary document from a browser origin or with the session cookie (DENYD)", async () => {
    for (const headers of [browser, { cookie: "theme=dark; tc_session=x.y.z" }]) {
      const r = await post({ query: ARBITRARY }, headers);
      expect(r.data ?? null).toBeNull();
      expect(r.errors?.[0]?.extensions?.code).toBe("DENYD");
      expect(r.errors?.[0]?.message).toMatch(/trusted documents/);
    }
    // A trusted hash with some other text is refused too: the text is never what decides.
    const r = await post({ query: ARBITRARY, ...persisted(LIVE) }, browser);
    expect(r.errors?.[0]?.extensions?.code).toBe("DENYD");
  });

  it("runs a browser request naming a trusted document by hash, with or without its text", async () => {
    expect(LIVE).not.toBe("");
    for (const body of [{ ...persisted(LIVE) }, { query: LIVE, ...persisted(LIVE) }, { query: LIVE }, { documentId: sha256(LIVE) }]) {
      const r = await post(body, browser);
      expect(r.errors ?? []).toEqual([]);
      expect(r.data).toHaveProperty("liveStreams");
    }
  });

  it("still runs any document from a client that is not a browser, within the limits", async () => {
    const r = await prod.gql<{ liveStreams: unknown }>(ARBITRARY);
    expect(r.errors ?? []).toEqual([]);
    expect(r.data).toHaveProperty("liveStreams");
    const aliases = Array.from({ length: 20 }, (_, i) => `a${i}: liveStreams(first: 1) { nodes { rowId } }`).join(" ");
    const many = await prod.gql(`{ ${aliases} }`);
    expect(many.data ?? null).toBeNull();
    expect((many.errors ?? []).map((e) => e.message).join(" | ")).toMatch(/Aliases limit of 15 exceeded/);
  });
});

describe("the generator", () => {
  it("finds every document the web app sends", () => {
    expect(Object.keys(manifest).length).toBeGreaterThanOrEqual(45);
    expect(calls.length).toBeGreaterThanOrEqual(45);
    // Every call of the API client sends a document in the manifest (the generator fails the build
    // on a call whose document it cannot resolve).
    for (const c of calls) for (const d of c.documents) expect(manifest[sha256(d)], c.where).toBe(d);
    // One from outside the feature modules: realtime.ts's catch-up query.
    expect(Object.values(manifest).some((d) => d.startsWith("query StreamEventsSince("))).toBe(true);
  });
});
