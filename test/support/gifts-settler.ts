// A settlement run that stops mid-batch: opens a transaction, settles one batch (rows locked and
// marked, stats written, nothing committed), prints what it did and then waits, holding everything,
// until it is killed. Tests SIGKILL it to prove a crash before commit leaves every gift pending.
// Usage: node test/support/gifts-settler.ts <database url> <max rows>
import pg from "pg";

const [url, maxRows] = process.argv.slice(2);
const client = new pg.Client({ connectionString: url });
await client.connect();
// Other settlers may have taken everything: retry until this batch holds some gifts.
for (const deadline = Date.now() + 30_000; ; ) {
  await client.query("begin");
  const { rows } = await client.query<{ id: string; processed: number }>(
    "select id::text, processed from app_private.process_gift_ledger_batch($1)",
    [Number(maxRows ?? 100)],
  );
  if ((rows[0]?.processed ?? 0) > 0 || Date.now() > deadline) {
    console.log(`mid-batch ${JSON.stringify(rows[0])}`);
    break;
  }
  await client.query("rollback");
  await new Promise((r) => setTimeout(r, 5));
}
setInterval(() => {}, 60_000);
