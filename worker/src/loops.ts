/** Tasks that run on a sub-minute cadence by rescheduling themselves (see loop.ts). */
export const LOOP_TASKS = ["worker__heartbeat", "gift_ledger__settle", "streams__viral_tick"] as const;
