// One row of `npm run bench matrix`: what a scenario measured against one budget (docs/architecture.md
// "Budgets"), with the same-run baselines. Every scenario builds its rows with `matrixRow` and hands
// them to `emitRows`, which writes them as JSON lines to the file named by BENCH_ROWS_FILE (the matrix
// sets it for each scenario it runs) and does nothing otherwise. The matrix reads those files, prints
// one table, writes bench-matrix.json and (with --docs) the matrix section of docs/benchmarks.md.
// A scenario exits 0 when it ran: a missed budget is a FAIL row, not an exit code (the matrix counts a
// non-zero exit, or no rows, as the scenario not working; a scenario that could not measure a row
// because something failed exits non-zero).
import { appendFileSync } from "node:fs";

export type Verdict = "PASS" | "FAIL" | "INFO";

export interface MatrixRow {
  /** The scenario that measured it (bench-<scenario>.ts). */
  scenario: string;
  /** What the row is, e.g. "gifts over the broadcast socket". */
  row: string;
  /** The load applied, e.g. "16 sockets × 16 in flight, 5 s". */
  load: string;
  /** The measured result in words and figures, e.g. "11,422 acks/s = 0.62× floor". */
  result: string;
  /** The budget, e.g. "≥ 1.0× floor, p99 < 50 ms"; "-" when the row has none (INFO). */
  budget: string;
  verdict: Verdict;
  /** Throughput, with its unit ("gifts/s", "msgs/s", "req/s"). */
  rate?: number;
  unit?: string;
  p50Ms?: number;
  p99Ms?: number;
  /** Server process CPU per operation (ms). */
  serverCpuMs?: number;
  /** Database statements per operation (pg_stat_statements, top level). */
  dbStatements?: number;
  /** The naive (old-design) baseline measured in the same run, in words and figures. */
  naive?: string;
  /** PostgreSQL's own floor measured in the same run (pgbench, one durable row per commit). */
  floor?: string;
  /**
   * A correctness budget that does not depend on the machine's speed (nothing lost, audit empty, no
   * publish grant to a viewer, nobody switched to a broken link): `npm test` requires it to PASS even
   * in smoke sizes, where speed budgets are not asserted.
   */
  hard?: boolean;
}

/** A row whose verdict is PASS when `ok` (FAIL otherwise), or INFO when there is no budget. */
export function matrixRow(r: Omit<MatrixRow, "verdict"> & { ok?: boolean | null }): MatrixRow {
  const { ok, ...rest } = r;
  return { ...rest, verdict: ok == null || r.budget === "-" ? "INFO" : ok ? "PASS" : "FAIL" };
}

export function emitRows(rows: MatrixRow[]): void {
  const file = process.env.BENCH_ROWS_FILE;
  if (!file) return;
  for (const row of rows) appendFileSync(file, `${JSON.stringify(row)}\n`);
}

/** 12,345 / 1.2 / 0.05: figures as the tables print them. */
export function fmt(n: number | undefined, digits?: number): string {
  if (n == null || !Number.isFinite(n)) return "-";
  const d = digits ?? (Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2);
  return n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
}
