// Docs that name contract items stay true: every error code raised in SQL is in errors.ts and in
// docs/error_codes.md with the same HTTP status, the web app has words for each, and nothing points
// at a design document outside the repository.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { USER_TEXT } from "../../web/src/lib/errors.ts";
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

it("the web app has words for every documented error code (web/src/lib/errors.ts)", () => {
  const doc = readFileSync(`${root}/docs/error_codes.md`, "utf8");
  const documented = [...doc.matchAll(/^\|\s*`([A-Z]{5})`\s*\|/gm)].map((m) => m[1] ?? "");
  expect(documented.length).toBeGreaterThan(10);
  expect(documented.filter((c) => !(c in USER_TEXT))).toEqual([]);
});

it("no file refers to a design document outside the repository (docs/architecture.md is the one)", () => {
  // Spelled in pieces so this file does not match itself.
  const outside = [`../${"shared"}`, `DESIGN${".md"}`];
  const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { cwd: root, encoding: "utf8" })
    .split("\0")
    .filter((f) => f && existsSync(`${root}/${f}`) && statSync(`${root}/${f}`).isFile() && !/\.(png|jpe?g|gif|ico|woff2?|mp4)$/.test(f));
  expect(files.length).toBeGreaterThan(50);
  const hits = files.flatMap((f) => {
    const text = readFileSync(`${root}/${f}`, "utf8");
    return outside.filter((o) => text.includes(o)).map((o) => `${f}: ${o}`);
  });
  expect(hits).toEqual([]);
  expect(existsSync(`${root}/docs/architecture.md`)).toBe(true);
});
