// Times workers draining a backlog, for the bench scripts: connects, starts
// COPIES copies of COMMAND (environment inherited), polls SQL (a count) over
// one connection every 10 ms until it is zero, then stops the copies with
// SIGTERM and waits for them. Prints the seconds from the start of the copies
// to the zero count, or fails after WAIT_ZERO_LIMIT_S seconds (120 by
// default). (Spawning psql per poll would cost more CPU than the thing
// measured on a small machine.)
//
// usage: node wait_zero.js DATABASE_URL "select count(*) ..." COPIES COMMAND [ARGS...]
"use strict";

const { spawn } = require("child_process");
const { Client } = require("pg");

async function main() {
  const [url, sql, copiesArg, cmd, ...args] = process.argv.slice(2);
  const limit = Number(process.env.WAIT_ZERO_LIMIT_S || 120);
  const c = new Client({ connectionString: url });
  await c.connect();
  const kids = [];
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < Number(copiesArg); i++)
    kids.push(spawn(cmd, args, { stdio: ["ignore", "ignore", "inherit"] }));
  for (;;) {
    const r = await c.query(sql);
    if (Number(r.rows[0].count) === 0) break;
    if (Number(process.hrtime.bigint() - t0) / 1e9 > limit) {
      for (const k of kids) k.kill("SIGTERM");
      throw new Error("timed out");
    }
    await new Promise((res) => setTimeout(res, 10));
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  await c.end();
  await Promise.all(
    kids.map(
      (k) =>
        new Promise((res) => {
          k.on("exit", res);
          k.kill("SIGTERM");
        })
    )
  );
  process.stdout.write(secs.toFixed(3) + "\n");
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
