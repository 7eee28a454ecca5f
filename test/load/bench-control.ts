// `npm run bench control [-- --smoke] [--seats=200] [--viewers=100] [--fail-calls=6] [--broken-checks=4]`
// The control plane (issue 14: "seat revocation latency, viral switch with a healthy and a broken
// origin, and the start-up key check"), against the real server process (web/src/server/main.ts, its
// graphile-worker in process) and the local doubles that speak the real wire protocols and check
// signatures: LiveKit (RoomService + Egress Twirp, test/support/livekit-double.ts), Mux (REST, Basic
// auth) and the ffmpeg HLS origin.
//   revocation   `--seats` guests seated through GraphQL (inviteToSeat by the broadcaster, acceptSeat by
//                the guest, 10 seats per stage) and admitted at the LiveKit double with the publisher
//                token the server minted; then revoked one at a time through GraphQL revokeSeat as the
//                broadcaster (as the web app's Stage does): time from the request to the double
//                receiving the call that takes publish away (UpdateParticipant without canPublish, or
//                RemoveParticipant), p50/p99.
//   burst        the same seats seated again and revoked with one request in flight per stage, the next
//                sent on each GraphQL answer (not waiting for LiveKit): the worker's drain rate
//                (WORKER_CONCURRENCY jobs at once) against the same budget.
//   retried      one more revocation while the double fails the first `--fail-calls` participant calls
//                (503): time until the call that sticks.
//   viral ok     requestViralMode(hls) as the broadcaster with `--viewers` broadcast sockets open: time to
//                the egress start at the double, to the passing playlist check (app_private.hls_checks)
//                and to each viewer's `stream_state` playback event; exactly one egress, nobody before the check.
//   viral broken the same with the origin answering 404 for playlists: nobody switched, the failure in
//                /metrics and stream_playback, the retry delays growing (retry_base_seconds = 1 here).
//   key check    the server started with one wrong key or origin at a time (and once all right): when
//                the log line and /readyz `services` name the problem. The five starts run at once,
//                while the broken-origin row waits on the worker's timers.
// Naive column: the old design did seat revocation client-side only (nothing told LiveKit) and pointed
// viewers at the CDN link at once (which 404'd); the broken-origin row measures that 404 in the same run.

import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import pg from "pg";
import WebSocket from "ws";
import { applyCurrentMigration, currentMigrationFiles, ensureDatabase, migrateDatabase, setupRoles } from "../../db/tools.ts";
import { startTestApp, type TestApp } from "../support/app.ts";
import { startCluster } from "../support/cluster.ts";
import { removeGeneratedMedia, startHlsOrigin } from "../support/hls-origin.ts";
import { type Call, type LivekitDouble, stageFixtures, startLivekitDouble } from "../support/livekit-double.ts";
import { startMuxDouble } from "../support/mux-double.ts";
import { cloneDatabase, dbUrl, TEMPLATE_DB, TEST_AUTHENTICATOR_PASSWORD, type TestDatabase } from "../support/testdb.ts";
import { treeCpu } from "./bench-graphql.ts";
import { emitRows, fmt, type MatrixRow, matrixRow } from "./matrix-row.ts";
import { statementCount } from "./profile.ts";

const SCENARIO = "control";
const SEATS_PER_STAGE = 10;
const wall0 = performance.now();
const log = (m: string) => console.error(`  [${((performance.now() - wall0) / 1000).toFixed(1)} s] ${m}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))] ?? Number.NaN;
const secs = (ms: number) => `${fmt(ms / 1000, 2)} s`;

function num(args: string[], name: string, def: number): number {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.slice(name.length + 3)) : def;
}

/** Poll `fn` until `ok` (every `everyMs`), or null after `ms`. */
async function waitFor<T>(fn: () => Promise<T> | T, ok: (v: T) => boolean, ms: number, everyMs = 50): Promise<T | null> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > until) return null;
    await sleep(everyMs);
  }
}

const GO_LIVE = "mutation($t: String!) { goLive(input: {title: $t}) { result { rowId } } }";
const SEAT_CAP = "mutation($s: UUID!, $c: Int!) { setSeatCap(input: {streamId: $s, seatCap: $c}) { result { seatCap } } }";
const INVITE = "mutation($s: UUID!, $u: UUID!) { inviteToSeat(input: {streamId: $s, userId: $u}) { result { rowId status } } }";
const ACCEPT = "mutation($id: UUID!) { acceptSeat(input: {seatId: $id}) { result { rowId status } } }";
const REVOKE = "mutation($id: UUID!, $r: String) { revokeSeat(input: {seatId: $id, reason: $r}) { result { rowId status } } }";
const VIRAL = "mutation($s: UUID!, $m: String!) { requestViralMode(input: {streamId: $s, mode: $m}) { result { mode pending } } }";
const END = "mutation($s: UUID!) { endStream(input: {streamId: $s}) { result { status } } }";
const PLAYBACK = "query($id: UUID!) { streamByRowId(rowId: $id) { playback { provider mode hlsUrl pending } } }";

async function gql<T>(app: TestApp, query: string, vars: Record<string, unknown>, token: string): Promise<T> {
  const r = await app.gql<T>(query, vars, token);
  if (r.errors?.length || !r.data) throw new Error(`GraphQL: ${r.errors?.map((e) => e.message).join("; ") ?? `status ${r.status}`}`);
  return r.data;
}

/** A viewer's broadcast socket (docs/realtime-protocol.md): when it was told to switch to HLS, and to what. */
interface Viewer {
  switchedAt: number | null;
  hlsUrl: string | null;
  close(): void;
}

async function openViewer(base: string, streamId: string): Promise<Viewer> {
  const ws = new WebSocket(`${base.replace(/^http/, "ws")}/broadcast?stream=${streamId}`, { perMessageDeflate: false });
  const v: Viewer = { switchedAt: null, hlsUrl: null, close: () => ws.terminate() };
  await new Promise<void>((resolve, reject) => {
    ws.on("message", (data) => {
      const m = JSON.parse(String(data)) as {
        type: string;
        events?: { kind: string; payload?: { type?: string; mode?: string; hls_url?: string | null } }[];
      };
      if (m.type === "hello") return resolve();
      if (m.type !== "events") return;
      for (const e of m.events ?? [])
        if (e.kind === "stream_state" && e.payload?.type === "playback" && e.payload.mode === "hls" && v.switchedAt === null) {
          v.switchedAt = Date.now();
          v.hlsUrl = e.payload.hls_url ?? null;
        }
    });
    ws.once("error", reject);
    ws.once("close", (code) => reject(new Error(`broadcast socket closed (${code}) before hello`)));
  });
  return v;
}

async function openViewers(base: string, streamId: string, n: number): Promise<Viewer[]> {
  const out: Viewer[] = [];
  for (let i = 0; i < n; i += 20)
    out.push(...(await Promise.all(Array.from({ length: Math.min(20, n - i) }, () => openViewer(base, streamId)))));
  return out;
}

/** The call that takes publish away from `identity`, made at or after `after` (Date.now() ms). */
const revokedAt = (identity: string, after: number) => (c: Call) =>
  c.at >= after &&
  c.status === 200 &&
  c.body.identity === identity &&
  ((c.method === "UpdateParticipant" && (c.body.permission as { canPublish?: boolean } | undefined)?.canPublish !== true) ||
    c.method === "RemoveParticipant");

interface Guest {
  id: string;
  token: string;
  stage: number;
  seatId?: string;
}

interface World {
  app: TestApp;
  lk: LivekitDouble;
  admin: pg.Client;
  fx: Awaited<ReturnType<typeof stageFixtures>>;
  originUrl: string;
}

/** A broadcaster live through GraphQL goLive, with the room open at the double (CreateRoom by the worker). */
async function liveStream(w: World, name: string): Promise<{ id: string; token: string; streamId: string }> {
  const caster = await w.fx.user(name, "broadcaster");
  const d = await gql<{ goLive: { result: { rowId: string } } }>(w.app, GO_LIVE, { t: `${name}'s show` }, caster.token);
  const streamId = d.goLive.result.rowId;
  await w.lk.waitForCall((c) => c.method === "CreateRoom" && c.body.name === streamId && c.status === 200, 15_000);
  return { ...caster, streamId };
}

/** Invite + accept through GraphQL, then admit the guest at the double with the token the server mints. */
async function seat(w: World, caster: { token: string; streamId: string }, g: Guest): Promise<void> {
  const inv = await gql<{ inviteToSeat: { result: { rowId: string } } }>(w.app, INVITE, { s: caster.streamId, u: g.id }, caster.token);
  g.seatId = inv.inviteToSeat.result.rowId;
  await gql(w.app, ACCEPT, { id: g.seatId }, g.token);
  const res = await fetch(`${w.app.url}/livekit-token`, {
    method: "POST",
    headers: { authorization: `Bearer ${g.token}`, "content-type": "application/json" },
    body: JSON.stringify({ streamId: caster.streamId }),
  });
  const body = (await res.json()) as { token?: string };
  if (!body.token) throw new Error(`no stage token for a seated guest: ${JSON.stringify(body)}`);
  const p = await w.lk.join(body.token);
  if (!p.permission.canPublish) throw new Error("the seated guest's token does not publish");
}

/** Wait until the worker has recorded the accept's enforcement for every guest (so no job is queued ahead of a revoke). */
async function acceptsEnforced(w: World, pairs: { streamId: string; userId: string }[], since: Date): Promise<boolean> {
  const streams = pairs.map((p) => p.streamId);
  const users = pairs.map((p) => p.userId);
  const done = await waitFor(
    async () =>
      Number(
        (
          await w.admin.query<{ n: string }>(
            `select count(*) as n from app_private.livekit_enforcements e
               join unnest($1::uuid[], $2::uuid[]) as x(s, u) on e.stream_id = x.s and e.user_id = x.u
              where e.can_publish and e.updated_at >= $3 and e.state <> 'failing'`,
            [streams, users, since],
          )
        ).rows[0]?.n,
      ),
    (n) => n >= pairs.length,
    30_000,
    100,
  );
  return done !== null;
}

/** The revocation rows, pushed onto `rows` as each is measured (a later one that throws keeps the earlier). */
async function revocationRows(w: World, seats: number, failCalls: number, rows: MatrixRow[]): Promise<void> {
  const stages = Math.ceil(seats / SEATS_PER_STAGE);
  log(`revocation: ${seats} seats on ${stages} stages (${SEATS_PER_STAGE} each)`);
  const casters: { id: string; token: string; streamId: string }[] = [];
  for (let i = 0; i < stages; i++) {
    const c = await liveStream(w, `caster${i}`);
    await gql(w.app, SEAT_CAP, { s: c.streamId, c: SEATS_PER_STAGE }, c.token);
    casters.push(c);
  }
  const guests: Guest[] = [];
  for (let i = 0; i <= seats; i++) guests.push({ ...(await w.fx.user(`guest${i}`)), stage: i % stages });
  const retried = guests.pop() as Guest;
  const seatAll = async () => {
    const since = new Date(Date.now() - 1000);
    // One seat at a time per stage (the lowest free slot), the stages in parallel.
    await Promise.all(
      casters.map(async (c, s) => {
        for (const g of guests) if (g.stage === s) await seat(w, c, g);
      }),
    );
    const pairs = guests.map((g) => ({ streamId: casters[g.stage]!.streamId, userId: g.id }));
    if (!(await acceptsEnforced(w, pairs, since))) throw new Error("the accepts were not enforced at LiveKit within 30 s");
  };

  /**
   * Revoke every guest's seat through GraphQL as its broadcaster, `inFlight` requests at a time; each
   * request waits for the previous one's LiveKit call (`waitEach`) or only for its GraphQL answer.
   */
  const revokeAll = async (inFlight: number, waitEach: boolean, row: string, load: string) => {
    const lat: number[] = [];
    const gqlLat: number[] = [];
    let missed = 0;
    let giveUp = false;
    let next = 0;
    const pid = w.app.proc.pid ?? 0;
    const cpu0 = treeCpu(pid);
    const st0 = await statementCount(w.admin);
    const calls: Promise<void>[] = [];
    const began = performance.now();
    const arrivals: number[] = [];
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        for (let i = next++; i < guests.length; i = next++) {
          const g = guests[i]!;
          const t0d = Date.now();
          const t0 = performance.now();
          const call = w.lk.waitForCall(revokedAt(g.id, t0d), 5000).then(
            () => {
              lat.push(performance.now() - t0);
              arrivals.push(performance.now() - began);
            },
            () => {
              // Nothing reaches the double: revoke the rest without waiting 5 s a seat (the next round seats them again).
              if (++missed >= 3 && lat.length === 0) giveUp = true;
            },
          );
          calls.push(call);
          await gql(w.app, REVOKE, { id: g.seatId, r: "bench: revoked" }, casters[g.stage]!.token);
          gqlLat.push(performance.now() - t0);
          if (waitEach && !giveUp) await call;
        }
      }),
    );
    const answered = performance.now() - began;
    await Promise.all(calls);
    arrivals.sort((x, y) => x - y);
    const ops = lat.length + missed;
    const cpuMs = ((treeCpu(pid) - cpu0) * 1000) / Math.max(1, ops);
    const stmts = ((await statementCount(w.admin)) - st0) / Math.max(1, ops);
    const stillPublishing = guests.filter((g) => w.lk.rooms.get(casters[g.stage]!.streamId)?.get(g.id)?.permission.canPublish).length;
    lat.sort((x, y) => x - y);
    gqlLat.sort((x, y) => x - y);
    const p50 = pct(lat, 0.5);
    const p99 = pct(lat, 0.99);
    if (missed) log(`revocation: ${missed} seats got no LiveKit call within 5 s`);
    return matrixRow({
      scenario: SCENARIO,
      row,
      load,
      result: `p50 ${fmt(p50)} ms, p99 ${fmt(p99)} ms, max ${fmt(lat.at(-1))} ms; ${lat.length}/${guests.length} reached LiveKit, ${stillPublishing} still publishing; revokeSeat answered p50 ${fmt(pct(gqlLat, 0.5))} ms${waitEach ? "" : `; all sent and answered in ${fmt(answered)} ms, LiveKit calls from +${fmt(arrivals[0])} to +${fmt(arrivals.at(-1))} ms`}`,
      budget: "p99 < 1 s, every seat",
      ok: lat.length === guests.length && p99 < 1000 && stillPublishing === 0,
      p50Ms: p50,
      p99Ms: p99,
      serverCpuMs: cpuMs,
      dbStatements: stmts,
      naive: "client-side only: never revoked at LiveKit (0 calls; a guest who ignores the event keeps publishing)",
    });
  };

  await seatAll();
  log(`revocation: ${guests.length} guests seated and publishing at the double; revoking one at a time`);
  rows.push(
    await revokeAll(
      1,
      true,
      "seat revocation → LiveKit UpdateParticipant (GraphQL revokeSeat)",
      `${guests.length} seats on ${stages} stages, revoked one at a time`,
    ),
  );
  await seatAll();
  log(`revocation: seated again; revoking ${stages} at a time`);
  rows.push(
    await revokeAll(
      stages,
      false,
      "seat revocation burst → LiveKit",
      `${guests.length} seats, ${stages} revokeSeat requests in flight (the next sent on each answer)`,
    ),
  );

  // The same while LiveKit fails: each attempt makes two calls (UpdateParticipant, then RemoveParticipant).
  log(`revocation: one more while the double fails the first ${failCalls} participant calls`);
  const caster = casters[retried.stage]!;
  const since2 = new Date(Date.now() - 1000);
  await seat(w, caster, retried);
  if (!(await acceptsEnforced(w, [{ streamId: caster.streamId, userId: retried.id }], since2)))
    throw new Error("the retried guest's accept was not enforced");
  w.lk.fail({ methods: ["UpdateParticipant", "RemoveParticipant"], times: failCalls });
  let result: string;
  let ok = false;
  let took = Number.NaN;
  try {
    const t0d = Date.now();
    const t0 = performance.now();
    const call = w.lk.waitForCall(revokedAt(retried.id, t0d), 30_000).then(
      (c) => ({ c, ms: performance.now() - t0 }),
      () => null,
    );
    await gql(w.app, REVOKE, { id: retried.seatId, r: "bench: flaky livekit" }, caster.token);
    const got = await call;
    const failed = w.lk.calls.filter((c) => c.at >= t0d && c.status === 503 && c.body.identity === retried.id).length;
    if (got) {
      took = got.ms;
      const enf = await waitFor(
        async () =>
          (
            await w.admin.query<{ state: string; attempts: number }>(
              "select state, attempts from app_private.livekit_enforcements where stream_id = $1 and user_id = $2 and not can_publish",
              [caster.streamId, retried.id],
            )
          ).rows[0],
        (r) => r !== undefined && r.state !== "failing",
        5000,
      );
      const publishing = w.lk.rooms.get(caster.streamId)?.get(retried.id)?.permission.canPublish ?? false;
      ok = failed >= failCalls && !publishing && enf != null;
      result = `stuck after ${fmt(took)} ms: ${failed} calls answered 503, then ${got.c.method} 200 (${enf?.attempts ?? "?"} attempts, ${enf?.state ?? "not recorded"}); ${publishing ? "STILL publishing" : "not publishing"}`;
    } else result = `never stuck within 30 s (${failed} calls answered 503)`;
  } finally {
    w.lk.heal();
  }
  rows.push(
    matrixRow({
      scenario: SCENARIO,
      row: `seat revocation while LiveKit fails the first ${failCalls} calls`,
      load: "1 seat, RoomService answering 503",
      result,
      budget: "retried until it sticks (< 15 s)",
      ok: ok && took < 15_000,
      p50Ms: took,
      naive: "client-side only: never revoked",
    }),
  );
}

interface ViralOutcome {
  streamId: string;
  token: string;
  t0: number;
  viewers: Viewer[];
}

async function goViral(w: World, name: string, viewerCount: number): Promise<ViralOutcome> {
  const caster = await liveStream(w, name);
  const viewers = await openViewers(w.app.url, caster.streamId, viewerCount);
  const t0 = Date.now();
  await gql(w.app, VIRAL, { s: caster.streamId, m: "hls" }, caster.token);
  return { streamId: caster.streamId, token: caster.token, t0, viewers };
}

const egressCalls = (lk: LivekitDouble, streamId: string) =>
  lk.calls.filter((c) => c.method === "StartRoomCompositeEgress" && c.body.roomName === streamId && c.status === 200);

async function viralOkRow(w: World, viewerCount: number): Promise<MatrixRow> {
  log(`viral switch, healthy origin: ${viewerCount} viewer sockets`);
  const v = await goViral(w, "viral_ok", viewerCount);
  const start = await w.lk
    .waitForCall((c) => c.method === "StartRoomCompositeEgress" && c.body.roomName === v.streamId && c.status === 200, 30_000)
    .catch(() => null);
  const check = await waitFor(
    async () =>
      (
        await w.admin.query<{ at: number; url: string }>(
          "select extract(epoch from checked_at)::float8 * 1000 as at, url from app_private.hls_checks where stream_id = $1 and purpose = 'to_hls' and ok order by id limit 1",
          [v.streamId],
        )
      ).rows[0],
    (r) => r !== undefined,
    30_000,
  );
  await waitFor(
    () => v.viewers.every((x) => x.switchedAt !== null),
    (b) => b,
    30_000,
  );
  await sleep(500); // a second egress start or a late event would show here
  const egresses = egressCalls(w.lk, v.streamId).length;
  const failedChecks = Number(
    (await w.admin.query("select count(*) as n from app_private.hls_checks where stream_id = $1 and not ok", [v.streamId])).rows[0]?.n,
  );
  const pb = (await w.app.gql<{ streamByRowId: { playback: { mode: string; hlsUrl: string } } }>(PLAYBACK, { id: v.streamId })).data
    ?.streamByRowId.playback;
  const switched = v.viewers.filter((x) => x.switchedAt !== null);
  const early = check ? switched.filter((x) => (x.switchedAt ?? 0) < check.at).length : switched.length;
  const wrongUrl = switched.filter((x) => x.hlsUrl !== check?.url).length;
  const told = switched.map((x) => (x.switchedAt ?? 0) - v.t0).sort((a, b) => a - b);
  const startMs = start ? start.at - v.t0 : Number.NaN;
  const checkMs = check ? check.at - v.t0 : Number.NaN;
  for (const x of v.viewers) x.close();
  await gql(w.app, END, { s: v.streamId }, v.token); // its egress stops with it
  const ok =
    egresses === 1 &&
    check !== null &&
    switched.length === v.viewers.length &&
    early === 0 &&
    wrongUrl === 0 &&
    pb?.mode === "hls" &&
    (told.at(-1) ?? Number.POSITIVE_INFINITY) < 30_000;
  return matrixRow({
    scenario: SCENARIO,
    row: "viral switch, healthy origin (requestViralMode hls)",
    hard: true,
    load: `1 stream, ${viewerCount} viewer sockets, egress to the HLS origin`,
    result: `egress started +${secs(startMs)}, playlist check passed +${secs(checkMs)}, viewers told +${secs(told[0] ?? Number.NaN)}…+${secs(told.at(-1) ?? Number.NaN)}; ${egresses} egress, ${switched.length}/${v.viewers.length} switched, ${early} before the check, ${failedChecks} failed checks`,
    budget: "1 egress; viewers only after a passing check; all < 30 s",
    ok,
    p50Ms: pct(told, 0.5),
    p99Ms: pct(told, 0.99),
    naive: "old design: switched at once to a CDN link with nothing behind it: 404 for every viewer",
  });
}

async function viralBrokenRow(w: World, viewerCount: number, checks: number): Promise<MatrixRow> {
  log(`viral switch, broken origin (playlists 404): ${viewerCount} viewer sockets, until ${checks} failed checks`);
  const v = await goViral(w, "viral_broken", viewerCount);
  const start = await w.lk
    .waitForCall((c) => c.method === "StartRoomCompositeEgress" && c.body.roomName === v.streamId && c.status === 200, 30_000)
    .catch(() => null);
  // Every state the check left behind: after a failure, check_due_at − last_check_at is the retry delay.
  const delays = new Map<number, number>();
  const seen = await waitFor(
    async () => {
      const r = (
        await w.admin.query<{ attempts: number; delay: number | null; mode: string; pending: string | null }>(
          `select attempts, extract(epoch from check_due_at - last_check_at)::float8 as delay, mode, pending
             from app_private.stream_playback where stream_id = $1`,
          [v.streamId],
        )
      ).rows[0];
      // Before the worker claims it again (the claim leases check_due_at 30 s ahead).
      if (r && r.attempts > 0 && r.delay != null && r.delay < 25 && !delays.has(r.attempts)) delays.set(r.attempts, r.delay);
      return r;
    },
    // Enough failed checks, or nothing left to wait for (switched after all, or the request gone).
    (r) => (r?.attempts ?? 0) >= checks || (r !== undefined && (r.mode !== "stage" || r.pending === null)),
    60_000,
    100,
  );
  const history = (
    await w.admin.query<{ at: number; ok: boolean; error: string | null; url: string }>(
      "select extract(epoch from checked_at)::float8 * 1000 as at, ok, error, url from app_private.hls_checks where stream_id = $1 order by id",
      [v.streamId],
    )
  ).rows;
  const metrics = await (await fetch(`${w.app.url}/metrics`)).text();
  const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)`, "m").exec(metrics)?.[1] ?? Number.NaN);
  const failing = gauge("trollcity_playback_streams_check_failing");
  const failedTotal = gauge("trollcity_playback_hls_checks_failed");
  const pb = (await w.app.gql<{ streamByRowId: { playback: { mode: string; pending: string | null } } }>(PLAYBACK, { id: v.streamId })).data
    ?.streamByRowId.playback;
  const switched = v.viewers.filter((x) => x.switchedAt !== null).length;
  const egresses = egressCalls(w.lk, v.streamId).length;
  // The old design, measured: every viewer sent to the link at once.
  const url = history[0]?.url ?? `${w.originUrl}/live/${v.streamId}/index.m3u8`;
  const naive = await Promise.all(v.viewers.map(() => fetch(url).then((r) => r.status)));
  const naive404 = naive.filter((s) => s === 404).length;
  for (const x of v.viewers) x.close();
  await gql(w.app, END, { s: v.streamId }, v.token);
  const d = [...delays.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => s);
  const gaps = history.slice(1).map((h, i) => (h.at - (history[i]?.at ?? h.at)) / 1000);
  const backsOff = d.length >= 2 && d.every((x, i) => i === 0 || x > (d[i - 1] ?? 0));
  const firstFail = history.find((h) => !h.ok);
  const ok =
    start !== null &&
    egresses === 1 &&
    switched === 0 &&
    history.every((h) => !h.ok) &&
    (seen?.attempts ?? 0) >= checks &&
    failing >= 1 &&
    pb?.mode === "stage" &&
    backsOff;
  return matrixRow({
    scenario: SCENARIO,
    row: "viral switch, broken origin (playlist 404)",
    hard: true,
    load: `1 stream, ${viewerCount} viewer sockets, until ${checks} failed checks (retry base 1 s here; default 15 s)`,
    result:
      `egress started +${secs(start ? start.at - v.t0 : Number.NaN)} (${egresses} egress); first check failed +${secs(firstFail ? firstFail.at - v.t0 : Number.NaN)} ` +
      `("${firstFail?.error ?? "-"}"); ${history.filter((h) => !h.ok).length} of ${history.length} checks failed, retry delays ${d.map((x) => `${fmt(x, 0)} s`).join(", ") || "-"} ` +
      `(gaps ${gaps.map((x) => `${fmt(x, 1)} s`).join(", ") || "-"}); ${switched}/${v.viewers.length} viewers switched, still ${pb?.mode ?? "?"}; ` +
      `/metrics check_failing ${fmt(failing, 0)}, hls_checks_failed ${fmt(failedTotal, 0)}`,
    budget: "0 viewers switched to a broken link, failure visible, retries back off",
    ok,
    naive: `old design (measured): switched at once, ${naive404}/${naive.length} viewers' playlist fetches answered 404`,
  });
}

interface KeyCase {
  name: string;
  env: Record<string, string>;
  /** The service expected to report, and what /readyz and the log must say (null: all ok). */
  expect: { service: string; readyz: RegExp; log: RegExp } | null;
}

async function keyCheckRow(clusterUrl: string, c: KeyCase): Promise<MatrixRow> {
  let db: TestDatabase | null = null;
  let app: TestApp | null = null;
  try {
    db = await cloneDatabase(clusterUrl, "keys");
    const spawnAt = Date.now();
    app = await startTestApp({ RUN_WORKER: "false", LOG_LEVEL: "info", LOG_FORMAT: "json", ...c.env }, { db });
    const listenAt = Date.now();
    const services = await waitFor(
      async () => ((await (await fetch(`${app!.url}/readyz`)).json()) as { services?: Record<string, string> }).services ?? {},
      (s) => Object.keys(s).length > 0 && Object.values(s).every((x) => x !== "checking"),
      15_000,
      20,
    );
    const readyAt = Date.now();
    // /readyz can show a check's result before its log line has come through the pipe: give it a moment.
    if (c.expect) {
      const e = c.expect;
      await waitFor(
        async () => app?.output() ?? "",
        (out) => out.split("\n").some((l) => l.startsWith("{") && e.log.test(l)),
        2_000,
        20,
      ).catch(() => {});
    }
    const lines = app
      .output()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => {
        try {
          return JSON.parse(l) as { level: number; time: number; msg: string };
        } catch {
          return null;
        }
      })
      .filter((l) => l !== null);
    const shown = Object.entries(services ?? {})
      .map(([k, x]) => `${k}: ${x}`)
      .join("; ");
    if (!c.expect) {
      const okAll = services !== null && Object.values(services).every((x) => x === "ok");
      const errors = lines.filter((l) => l.level >= 50);
      return matrixRow({
        scenario: SCENARIO,
        row: `start-up key check: ${c.name}`,
        load: "1 of 5 server starts at once",
        result: `/readyz ${shown || "nothing"} (+${secs(readyAt - spawnAt)} after spawn, +${secs(readyAt - listenAt)} after listening); ${errors.length} error lines`,
        budget: "every service ok",
        ok: okAll && errors.length === 0,
        p50Ms: readyAt - spawnAt,
      });
    }
    const e = c.expect;
    const line = lines.find((l) => l.level >= 50 && e.log.test(l.msg));
    const value = services?.[e.service] ?? "";
    const others = Object.entries(services ?? {}).filter(([k, x]) => k !== e.service && x !== "ok");
    const loggedMs = line ? line.time - spawnAt : Number.NaN;
    const afterListen = line ? line.time - listenAt : Number.NaN;
    const ok = e.readyz.test(value) && line !== undefined && others.length === 0 && afterListen < 3000 && readyAt - listenAt < 3000;
    return matrixRow({
      scenario: SCENARIO,
      row: `start-up key check: ${c.name}`,
      load: "1 of 5 server starts at once",
      result:
        `logged +${secs(loggedMs)} after spawn (${afterListen <= 0 ? "before listening" : `+${secs(afterListen)} after listening`}): "${line?.msg.slice(0, 90) ?? "NO LOG LINE"}…"; ` +
        `/readyz ${e.service}: "${value}"${others.length ? `; also reported: ${others.map(([k, x]) => `${k}: ${x}`).join(", ")}` : ""}`,
      budget: "reported at start by name (log + /readyz), ≤ 3 s after listening",
      ok,
      p50Ms: loggedMs,
      naive: "no check at start: found by the first viewer or egress that fails",
    });
  } catch (err) {
    return matrixRow({
      scenario: SCENARIO,
      row: `start-up key check: ${c.name}`,
      load: "1 of 5 server starts at once",
      result: `error: ${(err as Error).message.split("\n")[0]}`,
      budget: "reported at start",
      ok: false,
    });
  } finally {
    await app?.stop();
    await db?.drop();
  }
}

function printTable(rows: MatrixRow[], title: string) {
  console.log(`\n${title}\n`);
  console.log("| row | load | result | budget | verdict | p50 (ms) | p99 (ms) | server CPU (ms/op) | db statements/op | naive |");
  console.log("| --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: | --- |");
  const cell = (s: string | undefined) => (s ?? "-").replaceAll("|", "\\|");
  for (const r of rows)
    console.log(
      `| ${cell(r.row)} | ${cell(r.load)} | ${cell(r.result)} | ${cell(r.budget)} | ${r.verdict} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${fmt(r.serverCpuMs)} | ${fmt(r.dbStatements, 1)} | ${cell(r.naive)} |`,
    );
}

/** A row that could not be measured: a FAIL, and the scenario exits non-zero (it did not work). */
const failedRow = (row: string, e: unknown): MatrixRow => {
  process.exitCode = 1;
  console.error(`${row}: ${(e as Error).stack ?? e}`);
  return matrixRow({
    scenario: SCENARIO,
    row,
    load: "-",
    result: `error: ${(e as Error).message.split("\n")[0]}`,
    budget: "runs",
    ok: false,
  });
};

export async function run(args: string[]): Promise<void> {
  const smoke = args.includes("--smoke");
  const seats = num(args, "seats", smoke ? 20 : 200);
  const viewers = num(args, "viewers", smoke ? 10 : 100);
  const failCalls = num(args, "fail-calls", 6);
  const brokenChecks = num(args, "broken-checks", smoke ? 2 : 4);
  const startedAt = new Date();
  const [cluster, lk, mux, origin] = await Promise.all([
    startCluster({ log }),
    startLivekitDouble(),
    startMuxDouble(),
    startHlsOrigin({ seconds: 60 }),
  ]);
  // An origin that refuses us (a wrong access key or ACL at a bucket or CDN).
  const refusing = createServer((_req, res) => {
    res.writeHead(403);
    res.end("forbidden");
  });
  await new Promise<void>((r) => refusing.listen(0, "127.0.0.1", () => r()));
  const ra = refusing.address();
  const refusingUrl = `http://127.0.0.1:${typeof ra === "object" && ra ? ra.port : 0}`;
  const rows: MatrixRow[] = [];
  const clusterUrl = cluster.url();
  try {
    await setupRoles(clusterUrl, TEST_AUTHENTICATOR_PASSWORD);
    const templateUrl = dbUrl(clusterUrl, TEMPLATE_DB);
    await ensureDatabase(templateUrl);
    await migrateDatabase(templateUrl);
    if (currentMigrationFiles().length) await applyCurrentMigration(templateUrl, log, process.env.TEST_CURRENT?.split(",").filter(Boolean));
    const c = new pg.Client({ connectionString: templateUrl });
    await c.connect();
    await c.query(readFileSync(fileURLToPath(new URL("../../db/test/helpers/tests.sql", import.meta.url)), "utf8"));
    await c.end();
    log("template migrated");

    const livekitEnv = { LIVEKIT_URL: lk.url, LIVEKIT_API_KEY: lk.apiKey, LIVEKIT_API_SECRET: lk.apiSecret };
    // Start-up key check: one wrong thing at a time next to the right others, then all right.
    const good = {
      ...livekitEnv,
      PLAYBACK_MUX_TOKEN_ID: mux.tokenId,
      PLAYBACK_MUX_TOKEN_SECRET: mux.tokenSecret,
      PLAYBACK_MUX_API_URL: mux.url,
      PLAYBACK_ORIGIN_URL: origin.url,
    };
    const cases: KeyCase[] = [
      {
        name: "wrong LIVEKIT_API_SECRET",
        env: { ...good, LIVEKIT_API_SECRET: "not-the-livekit-secret-not-the-livekit-secret" },
        expect: {
          service: "livekit",
          readyz: /^LIVEKIT_API_KEY\/LIVEKIT_API_SECRET rejected \(401\)$/,
          log: /LIVEKIT_API_KEY\/LIVEKIT_API_SECRET do not match LIVEKIT_URL/,
        },
      },
      {
        name: "wrong PLAYBACK_MUX_TOKEN_SECRET",
        env: { ...good, PLAYBACK_MUX_TOKEN_SECRET: "not-the-mux-secret" },
        expect: {
          service: "mux",
          readyz: /^PLAYBACK_MUX_TOKEN_ID\/PLAYBACK_MUX_TOKEN_SECRET rejected \(401\)$/,
          log: /PLAYBACK_MUX_TOKEN_ID\/PLAYBACK_MUX_TOKEN_SECRET were refused/,
        },
      },
      {
        name: "origin refuses us (403)",
        env: { ...good, PLAYBACK_ORIGIN_URL: refusingUrl },
        expect: {
          service: "origin",
          readyz: /^PLAYBACK_ORIGIN_URL refused \(403\)$/,
          log: /PLAYBACK_ORIGIN_URL \(.*\) refuses us \(403\)/,
        },
      },
      {
        name: "origin unreachable",
        env: { ...good, PLAYBACK_ORIGIN_URL: "http://127.0.0.1:9/origin" },
        expect: { service: "origin", readyz: /^PLAYBACK_ORIGIN_URL unreachable/, log: /PLAYBACK_ORIGIN_URL \(.*\) is unreachable/ },
      },
      { name: "all keys right", env: good, expect: null },
    ];
    let keyRows: Promise<MatrixRow[]> = Promise.resolve([]);

    const db = await cloneDatabase(clusterUrl, "control");
    const app = await startTestApp(
      { ...livekitEnv, PLAYBACK_ORIGIN_URL: origin.url, BROADCAST_MAX_PER_IP: "100000", LOG_LEVEL: "error" },
      { db },
    );
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    const fx = await stageFixtures(db.url);
    log(`server up at ${app.url}`);
    try {
      // Check retries 1 s doubling (the default is 15 s doubling to 5 min), so the backoff shows in seconds.
      await admin.query("update app_private.playback_settings set retry_base_seconds = 1, retry_max_seconds = 60");
      const w: World = { app, lk, admin, fx, originUrl: origin.url };
      try {
        await revocationRows(w, seats, failCalls, rows);
      } catch (e) {
        rows.push(failedRow("seat revocation → LiveKit", e));
      }
      origin.setMode("ok");
      try {
        rows.push(await viralOkRow(w, viewers));
      } catch (e) {
        rows.push(failedRow("viral switch, healthy origin", e));
      }
      // The broken-origin row only waits for the worker's timers (2 s ticks, retry delays of seconds):
      // the key-check servers start meanwhile, all at once (each keyCheckRow reports its own errors).
      log(`start-up key check: ${cases.length} server starts at once, alongside the broken-origin row`);
      keyRows = Promise.all(cases.map((k) => keyCheckRow(clusterUrl, k)));
      origin.setMode("playlist404");
      try {
        rows.push(await viralBrokenRow(w, viewers, brokenChecks));
      } catch (e) {
        rows.push(failedRow("viral switch, broken origin", e));
      } finally {
        origin.setMode("ok");
      }
    } finally {
      rows.push(...(await keyRows));
      await fx.close();
      await admin.end();
      await app.stop();
      await db.drop();
    }
  } catch (e) {
    rows.push(failedRow("set-up", e));
  } finally {
    refusing.close();
    await lk.close();
    await mux.close();
    await origin.close();
    await removeGeneratedMedia();
    await cluster.stop();
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
  printTable(
    rows,
    `Control plane (${smoke ? "smoke" : "full"} sizes): ${startedAt.toISOString()}, ${machine}, Node ${process.version}, ${((performance.now() - wall0) / 1000).toFixed(1)} s wall`,
  );
  emitRows(rows);
}
