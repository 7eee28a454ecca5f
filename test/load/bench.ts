// `npm run bench <scenario> [options]`: load scenarios that print tables, each next to a naive
// baseline shaped like the old design, measured in the same run. Scenarios live in bench-<name>.ts
// and export `run(args: string[]): Promise<void>`. Record results in docs/benchmarks.md.
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const scenarios = readdirSync(dir)
  .map((f) => /^bench-(.+)\.ts$/.exec(f)?.[1])
  .filter((n): n is string => Boolean(n))
  .sort();
const [name, ...args] = process.argv.slice(2);
if (!name || !scenarios.includes(name)) {
  console.error(`usage: npm run bench <scenario> [options]\nscenarios: ${scenarios.join(", ") || "(none yet)"}`);
  process.exit(name ? 2 : 0);
}
const mod = (await import(`./bench-${name}.ts`)) as { run(args: string[]): Promise<void> };
await mod.run(args);
