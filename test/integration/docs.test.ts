// Docs that name contract items stay true: every error code raised in SQL is in errors.ts and in
// docs/error_codes.md with the same HTTP status.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { ERROR_CODES } from "../../web/src/server/errors.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const sqlFiles = ["committed", "current"].flatMap((d) =>
  readdirSync(`${root}/db/migrations/${d}`)
    .filter((f) => f.endsWith(".sql"))
    .map((f) => readFileSync(`${root}/db/migrations/${d}/${f}`, "utf8")),
);

it("every errcode raised in the migrations is a documented code", () => {
  const raised = new Set(sqlFiles.flatMap((s) => [...s.matchAll(/errcode\s*=\s*'([A-Z0-9]{5})'/g)].map((m) => m[1] ?? "")));
  const ours = [...raised].filter((c) => /^[A-Z]{5}$/.test(c));
  expect(ours.filter((c) => !(c in ERROR_CODES))).toEqual([]);
});

it("docs/error_codes.md lists every code in errors.ts with its HTTP status", () => {
  const doc = readFileSync(`${root}/docs/error_codes.md`, "utf8");
  for (const [code, { http }] of Object.entries(ERROR_CODES)) {
    expect(doc, code).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${http}\\s*\\|`));
  }
});
