// `npm run bench tokens [--requests=2000] [--concurrency=8] [--users=200]`: LiveKit token issuance.
//   ours       POST /livekit-token on the real server: JWT verified, grant computed in SQL as the caller
//              (app_public.livekit_grant), token signed with every permission explicit.
//   graphql    the same through the GraphQL mutation livekitToken.
//   naive      the old design, measured here: a new database connection per request to look the
//              profile up, then a token that honours the client's `allowPublish` flag.
// Every request comes from a viewer asking for publish rights; the last column counts the tokens
// that would let a viewer publish (must be 0 for ours). Budget (docs/architecture.md): p99 < 20 ms.

import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { jwtVerify } from "jose";
import { AccessToken, TokenVerifier } from "livekit-server-sdk";
import pg from "pg";
import { applyCurrentMigration, currentMigrationFiles, ensureDatabase, migrateDatabase, setupRoles } from "../../db/tools.ts";
import { startTestApp, TEST_JWT_SECRET } from "../support/app.ts";
import { startCluster } from "../support/cluster.ts";
import { stageFixtures, startLivekitDouble } from "../support/livekit-double.ts";
import { cloneDatabase, dbUrl, TEMPLATE_DB, TEST_AUTHENTICATOR_PASSWORD } from "../support/testdb.ts";
import { emitRows, fmt, matrixRow } from "./matrix-row.ts";

function arg(args: string[], name: string, def: number): number {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split("=")[1]) : def;
}

interface Result {
  name: string;
  n: number;
  seconds: number;
  lat: number[];
  viewerPublish: number;
  errors: number;
}

async function drive(
  name: string,
  total: number,
  concurrency: number,
  one: (i: number) => Promise<{ token?: string }>,
  verifier: TokenVerifier,
): Promise<Result> {
  const lat: number[] = [];
  const tokens: string[] = [];
  let errors = 0;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) {
        const s = performance.now();
        try {
          const r = await one(i);
          lat.push(performance.now() - s);
          if (r.token) tokens.push(r.token);
          else errors++;
        } catch {
          errors++;
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  let viewerPublish = 0;
  for (const t of tokens) {
    const c = await verifier.verify(t);
    if (c.video?.canPublish !== false) viewerPublish++;
  }
  lat.sort((a, b) => a - b);
  return { name, n: lat.length, seconds, lat, viewerPublish, errors };
}

const pct = (lat: number[], p: number) => lat[Math.min(lat.length - 1, Math.ceil(lat.length * p) - 1)] ?? Number.NaN;

export async function run(args: string[]): Promise<void> {
  const total = arg(args, "requests", 2000);
  const concurrency = arg(args, "concurrency", 8);
  const userCount = arg(args, "users", 200);
  const log = (m: string) => console.error(`  ${m}`);
  const cluster = await startCluster({ log });
  const double = await startLivekitDouble();
  const clusterUrl = cluster.url();
  try {
    await setupRoles(clusterUrl, TEST_AUTHENTICATOR_PASSWORD);
    const templateUrl = dbUrl(clusterUrl, TEMPLATE_DB);
    await ensureDatabase(templateUrl);
    await migrateDatabase(templateUrl);
    if (currentMigrationFiles().length) await applyCurrentMigration(templateUrl, log, process.env.TEST_CURRENT?.split(",") ?? ["200"]);
    const c = new pg.Client({ connectionString: templateUrl });
    await c.connect();
    await c.query(readFileSync(fileURLToPath(new URL("../../db/test/helpers/tests.sql", import.meta.url)), "utf8"));
    await c.end();
    const db = await cloneDatabase(clusterUrl, "bench");
    const app = await startTestApp(
      { LIVEKIT_URL: double.url, LIVEKIT_API_KEY: double.apiKey, LIVEKIT_API_SECRET: double.apiSecret, LOG_LEVEL: "error" },
      { db },
    );
    const fx = await stageFixtures(db.url);
    try {
      const caster = await fx.user("caster", "broadcaster");
      const streamId = String((await fx.as(caster.id, "select (app_public.go_live('bench show')).id"))[0]?.id);
      const viewers: { id: string; token: string }[] = [];
      for (let i = 0; i < userCount; i++) viewers.push(await fx.user(`viewer${i}`));
      const verifier = new TokenVerifier(double.apiKey, double.apiSecret);
      const evil = (i: number) =>
        JSON.stringify({ streamId, room: streamId, allowPublish: true, canPublish: true, identity: caster.id, n: i });

      // The naive baseline, shaped like the old function.
      const jwtKey = new TextEncoder().encode(TEST_JWT_SECRET);
      const naive = createServer((req, res) => {
        (async () => {
          const chunks: Buffer[] = [];
          for await (const ch of req) chunks.push(ch as Buffer);
          const body = JSON.parse(Buffer.concat(chunks).toString()) as { room: string; allowPublish?: boolean };
          const { payload } = await jwtVerify(String(req.headers.authorization).slice(7), jwtKey, { audience: "trollcity" });
          const client = new pg.Client({ connectionString: db.url });
          await client.connect();
          try {
            const { rows } = await client.query("select * from app_public.users where id = $1", [payload.sub]);
            const at = new AccessToken(double.apiKey, double.apiSecret, { identity: String(rows[0]?.id), ttl: 3600 });
            at.addGrant({ room: body.room, roomJoin: true, canPublish: body.allowPublish === true, canSubscribe: true });
            res.writeHead(200, { "content-type": "application/json" });
            res.end(JSON.stringify({ token: await at.toJwt(), url: double.url }));
          } finally {
            await client.end();
          }
        })().catch((e: Error) => {
          res.writeHead(500);
          res.end(e.message);
        });
      });
      await new Promise<void>((r) => naive.listen(0, "127.0.0.1", () => r()));
      const naiveAddr = naive.address();
      const naiveUrl = `http://127.0.0.1:${typeof naiveAddr === "object" && naiveAddr ? naiveAddr.port : 0}`;

      const post = async (url: string, token: string, body: string) => {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body,
        });
        return (await res.json()) as { token?: string };
      };
      const mutation = "mutation($s: UUID!) { livekitToken(input: {streamId: $s}) { token } }";
      const variants: [string, (i: number) => Promise<{ token?: string }>][] = [
        ["ours: POST /livekit-token", (i) => post(`${app.url}/livekit-token`, viewers[i % viewers.length]!.token, evil(i))],
        [
          "ours: GraphQL livekitToken",
          async (i) => {
            const r = await post(
              `${app.url}/graphql`,
              viewers[i % viewers.length]!.token,
              JSON.stringify({ query: mutation, variables: { s: streamId } }),
            );
            return { token: (r as { data?: { livekitToken?: { token?: string } } }).data?.livekitToken?.token };
          },
        ],
        ["naive: connection per request, client flag", (i) => post(naiveUrl, viewers[i % viewers.length]!.token, evil(i))],
      ];
      const results: Result[] = [];
      for (const [name, one] of variants) {
        await drive(name, Math.min(200, total), concurrency, one, verifier); // warm-up
        log(`measuring ${name}`);
        results.push(await drive(name, total, concurrency, one, verifier));
      }
      naive.close();
      console.log(
        `\nLiveKit token issuance: ${total} requests per variant, concurrency ${concurrency}, ${userCount} viewers asking to publish\n`,
      );
      console.log("| variant | requests | errors | rate (req/s) | p50 (ms) | p99 (ms) | viewer publish grants |");
      console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
      for (const r of results)
        console.log(
          `| ${r.name} | ${r.n} | ${r.errors} | ${(r.n / r.seconds).toFixed(0)} | ${pct(r.lat, 0.5).toFixed(1)} | ${pct(r.lat, 0.99).toFixed(1)} | ${r.viewerPublish} |`,
        );
      const naiveR = results.find((r) => r.name.startsWith("naive"));
      emitRows(
        results
          .filter((r) => !r.name.startsWith("naive"))
          .flatMap((r) => [
            matrixRow({
              scenario: "tokens",
              row: `viewer publish grants: ${r.name}`,
              hard: true,
              load: `${r.n} token requests by viewers asking to publish`,
              result: `${r.viewerPublish} viewer publish grants, ${r.errors} errors`,
              budget: "0 publish grants to viewers, every request answered",
              ok: r.viewerPublish === 0 && r.errors === 0,
              naive: naiveR ? `${naiveR.viewerPublish} of ${naiveR.n} viewers could publish` : undefined,
            }),
            matrixRow({
              scenario: "tokens",
              row: `token latency for malicious viewers: ${r.name}`,
              load: `${total} requests, concurrency ${concurrency}, ${userCount} viewers asking to publish`,
              result: `${fmt(r.n / r.seconds)} req/s, ${r.errors} errors, ${r.viewerPublish} viewer publish grants`,
              budget: "0 publish grants to viewers, p99 < 20 ms",
              ok: r.viewerPublish === 0 && pct(r.lat, 0.99) < 20,
              rate: r.n / r.seconds,
              unit: "req/s",
              p50Ms: pct(r.lat, 0.5),
              p99Ms: pct(r.lat, 0.99),
              naive: naiveR
                ? `${naiveR.viewerPublish} of ${naiveR.n} viewers could publish, ${fmt(naiveR.n / naiveR.seconds)} req/s, p99 ${pct(naiveR.lat, 0.99).toFixed(1)} ms`
                : undefined,
            }),
          ]),
      );
    } finally {
      await fx.close();
      await app.stop();
      await db.drop();
    }
  } finally {
    await double.close();
    await cluster.stop();
  }
}
