// The studio's and viewer's pure helpers without a browser: playback events applied to the state
// (no poll), the end of a stream, seat countdowns, earnings per period (zeros where no gifts), the
// credit check that refetches earnings, and going live when the details are refused.
import { afterEach, expect, it, vi } from "vitest";
import { creditsBroadcaster, fetchEarnings } from "./gifts.ts";
import { applyPlaybackEvents, type Playback, playbackViewerCount, streamEnded } from "./playback.ts";
import { countdown } from "./stage.ts";
import { goLive } from "./streams.ts";

afterEach(() => {
  vi.unstubAllGlobals();
});

function stubFetch(answers: unknown[]): { calls: { query: string; variables: Record<string, unknown> }[] } {
  const calls: { query: string; variables: Record<string, unknown> }[] = [];
  vi.stubGlobal("fetch", async (_url: string, init: RequestInit) => {
    calls.push(JSON.parse(String(init.body)));
    return new Response(JSON.stringify(answers.shift()), { status: 200 });
  });
  return { calls };
}

const stage: Playback = {
  provider: "livekit",
  mode: "stage",
  hlsUrl: null,
  hlsReady: false,
  latencyMode: "low",
  pending: "to_hls",
  switchedAt: null,
  viewerCount: 3,
};

it("playback follows stream_state and viewer_count events", () => {
  const next = applyPlaybackEvents(stage, [
    { kind: "viewer_count", payload: { viewers: 812 } },
    { kind: "chat", payload: { body: "hi" } },
    {
      kind: "stream_state",
      payload: { type: "playback", mode: "hls", provider: "mux", latency_mode: "standard", hls_url: "https://x/a.m3u8", switched_at: "t1" },
    },
  ]);
  expect(next).toEqual({
    provider: "mux",
    mode: "hls",
    hlsUrl: "https://x/a.m3u8",
    hlsReady: true,
    latencyMode: "standard",
    pending: null,
    switchedAt: "t1",
    viewerCount: 812,
  });
  // Slow mode is a stream_state too, but not a playback one.
  expect(applyPlaybackEvents(stage, [{ kind: "stream_state", payload: { chat_slow_mode_seconds: 5 } }])).toBe(stage);
  expect(
    playbackViewerCount([
      { kind: "viewer_count", payload: { viewers: 1 } },
      { kind: "viewer_count", payload: { viewers: 2 } },
    ]),
  ).toBe(2);
  expect(playbackViewerCount([{ kind: "chat" }])).toBeNull();
  expect(streamEnded([{ kind: "stream_state", payload: { status: "ended" } }])).toBe(true);
  expect(streamEnded([{ kind: "stream_state", payload: { chat_slow_mode_seconds: 0 } }])).toBe(false);
});

it("seat countdowns read m:ss and stop at 0:00", () => {
  const now = Date.parse("2026-12-01T10:00:00Z");
  expect(countdown(null, now)).toBeNull();
  expect(countdown("2026-12-01T10:04:59.2Z", now)).toBe("5:00");
  expect(countdown("2026-12-01T10:00:07Z", now)).toBe("0:07");
  expect(countdown("2026-12-01T09:59:00Z", now)).toBe("0:00");
});

it("earnings list every period, zeros where nothing was settled; a leaderboard event for the broadcaster refetches", async () => {
  stubFetch([
    {
      data: {
        broadcasterEarnings: { nodes: [{ period: "all_time", coins: "500", earnedCoins: "400", gifts: "7" }] },
        topGiftersOfBroadcaster: [
          { rank: 1, userId: "u1", username: "alice", displayName: "Alice", avatarUrl: null, coins: "500", gifts: "7" },
        ],
      },
    },
  ]);
  const r = await fetchEarnings("b1");
  expect(r.earnings.map((e) => [e.period, e.coins])).toEqual([
    ["day", 0],
    ["week", 0],
    ["month", 0],
    ["all_time", 500],
  ]);
  expect(r.topGifters[0]).toMatchObject({ username: "alice", coins: 500, gifts: 7 });
  expect(creditsBroadcaster([{ id: 1, kind: "leaderboard", at: "", payload: { broadcaster_id: "b1" } }], "b1")).toBe(true);
  expect(creditsBroadcaster([{ id: 1, kind: "leaderboard", at: "", payload: { broadcaster_id: "b2" } }], "b1")).toBe(false);
});

it("going live with refused details leaves the stream live and says why", async () => {
  const { calls } = stubFetch([
    { data: { goLive: { result: { rowId: "s1" } } } },
    { errors: [{ message: "thumbnail URL must be an https:// URL", extensions: { code: "BADIN" } }] },
  ]);
  const r = await goLive({ title: "Late show", category: "music", thumbnailUrl: "javascript:1" });
  expect(r.streamId).toBe("s1");
  expect((r.detailsError as Error).message).toContain("thumbnail URL");
  expect(calls[1]?.variables).toEqual({ s: "s1", t: "Late show", c: "music", u: "javascript:1" });
  // Without details there is one call only.
  const one = stubFetch([{ data: { goLive: { result: { rowId: "s2" } } } }]);
  expect(await goLive({ title: "Plain", category: "", thumbnailUrl: " " })).toEqual({ streamId: "s2", detailsError: null });
  expect(one.calls).toHaveLength(1);
});
