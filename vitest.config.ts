import { defineConfig } from "vitest/config";

// Tests that assert a latency bound from an issue (a revoked guest's publisher gone within 1 s,
// revocation reaching LiveKit within 1 s) run after everything else, one file at a time, so that the
// bound is measured on the machine rather than against the rest of the suite's CPU use (2 workers on
// 2 cores). Everything else runs in parallel as before.
const timed = ["test/e2e/stage.test.ts", "test/faults/livekit-revocation.test.ts"];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: "suite",
          include: ["test/**/*.test.ts", "core/**/*.test.ts", "web/src/**/*.test.ts", "worker/**/*.test.ts"],
          exclude: timed,
          fileParallelism: true,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: "timed", include: timed, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
