// Developer commands for the schema, each on a throwaway cluster (nothing to set up):
//   node scripts/db.ts commit [--only=050,100] [message]
//                                        commit db/migrations/current/ (or only the named files)
//                                        as the next migration
//   node scripts/db.ts dump              regenerate db/schema.sql and web/schema.graphql
//   node scripts/db.ts check             fail when db/schema.sql or web/schema.graphql is stale
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commit } from "graphile-migrate";
import { clearAllPools } from "graphile-migrate/dist/pgReal.js";
import { ensureDatabase, migrateDatabase, migrationsFolder, setupRoles, srcFolder } from "../db/tools.ts";
import { startCluster } from "../test/support/cluster.ts";
import { checkGenerated, writeGenerated } from "./generated.ts";

const [cmd, ...argv] = process.argv.slice(2);
const onlyArg = argv.find((a) => a.startsWith("--only="));
const only = onlyArg?.slice(7).split(",").filter(Boolean) ?? [];
const rest = argv.filter((a) => a !== onlyArg);
const cluster = await startCluster({ log: (m) => console.error(m) });
try {
  await setupRoles(cluster.url(), "authenticator-dev-password");
  const url = cluster.url("trollcity");
  await ensureDatabase(url);
  if (cmd === "commit") {
    await ensureDatabase(cluster.url("trollcity_shadow"));
    await migrateDatabase(url, console.error);
    // With --only, commit from a scratch copy holding just those working files, then move the
    // result back: other files in current/ (someone else's work in progress) stay untouched.
    const folder = only.length ? mkdtempSync(join(tmpdir(), "trollcity-migrations-")) : migrationsFolder;
    if (only.length) {
      cpSync(join(migrationsFolder, "committed"), join(folder, "committed"), { recursive: true });
      cpSync(join(migrationsFolder, "current"), join(folder, "current"), {
        recursive: true,
        filter: (src) => !src.endsWith(".sql") || only.some((p) => src.split("/").pop()?.startsWith(p)),
      });
      // `--!include` resolves in <folder>/fixtures: the same db/src.
      symlinkSync(srcFolder, join(folder, "fixtures"));
    }
    await commit(
      {
        connectionString: url,
        shadowConnectionString: cluster.url("trollcity_shadow"),
        rootConnectionString: cluster.url("postgres"),
        migrationsFolder: folder,
      },
      rest.join(" ") || null,
    );
    clearAllPools();
    if (only.length) {
      cpSync(join(folder, "committed"), join(migrationsFolder, "committed"), { recursive: true });
      for (const f of readdirSync(join(migrationsFolder, "current"))) {
        if (f.endsWith(".sql") && only.some((p) => f.startsWith(p))) rmSync(join(migrationsFolder, "current", f));
      }
      rmSync(folder, { recursive: true, force: true });
    }
    execFileSync("git", ["status", "--short", "db/migrations"], { stdio: "inherit" });
    await migrateDatabase(url, console.error);
    await writeGenerated(cluster, url);
  } else if (cmd === "dump") {
    await migrateDatabase(url, console.error);
    await writeGenerated(cluster, url);
  } else if (cmd === "check") {
    await migrateDatabase(url, console.error);
    const stale = await checkGenerated(cluster, url);
    if (stale.length) {
      console.error(`stale: ${stale.join(", ")} — run \`npm run db:dump\` and commit the result`);
      process.exitCode = 1;
    } else console.error("db/schema.sql and web/schema.graphql are current");
  } else {
    console.error("usage: node scripts/db.ts commit [message] | dump | check");
    process.exitCode = 2;
  }
} finally {
  await cluster.stop();
}
