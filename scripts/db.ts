// Developer commands for the schema, each on a throwaway cluster (nothing to set up):
//   node scripts/db.ts commit [message]  commit db/migrations/current.sql as the next migration
//   node scripts/db.ts dump              regenerate db/schema.sql and web/schema.graphql
//   node scripts/db.ts check             fail when db/schema.sql or web/schema.graphql is stale
import { execFileSync } from "node:child_process";
import { commit } from "graphile-migrate";
import { ensureDatabase, migrateDatabase, migrationsFolder, setupRoles } from "../db/tools.ts";
import { startCluster } from "../test/support/cluster.ts";
import { checkGenerated, writeGenerated } from "./generated.ts";

const [cmd, ...rest] = process.argv.slice(2);
const cluster = await startCluster({ log: (m) => console.error(m) });
try {
  await setupRoles(cluster.url(), "authenticator-dev-password");
  const url = cluster.url("trollcity");
  await ensureDatabase(url);
  if (cmd === "commit") {
    await ensureDatabase(cluster.url("trollcity_shadow"));
    await migrateDatabase(url, console.error);
    await commit(
      {
        connectionString: url,
        shadowConnectionString: cluster.url("trollcity_shadow"),
        rootConnectionString: cluster.url("postgres"),
        migrationsFolder,
      },
      rest.join(" ") || null,
    );
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
