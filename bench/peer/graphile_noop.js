// Peer figure for bench/delivery.sh: graphile-worker working a backlog of N
// no-op jobs on the same PostgreSQL, with the same concurrency as
// holdpoint-delivery. Prints {"jobs": N, "seconds": S, "rate": R}.
//
// usage: node graphile_noop.js DATABASE_URL N CONCURRENCY
"use strict";

const { Logger, run, runMigrations } = require("graphile-worker");
const { Client } = require("pg");

async function main() {
  const [url, nArg, concArg] = process.argv.slice(2);
  const n = Number(nArg);
  const concurrency = Number(concArg);
  // Worker logs go to stderr so stdout carries only the result line.
  const logger = new Logger(() => (level, message) => console.error(`[${level}] ${message}`));

  await runMigrations({ connectionString: url, logger });
  const c = new Client({ connectionString: url });
  await c.connect();
  await c.query("select graphile_worker.add_job('noop', '{}'::json) from generate_series(1, $1)", [n]);
  await c.end();

  let done = 0;
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  const t0 = process.hrtime.bigint();
  const runner = await run({
    connectionString: url,
    concurrency,
    maxPoolSize: concurrency + 2,
    logger,
    noHandleSignals: true,
    pollInterval: 1000,
    taskList: {
      noop: async () => {
        done += 1;
        if (done === n) finish(process.hrtime.bigint());
      },
    },
  });
  const t1 = await finished;
  await runner.stop();
  const seconds = Number(t1 - t0) / 1e9;
  process.stdout.write(JSON.stringify({ jobs: n, seconds: Number(seconds.toFixed(3)), rate: n / seconds }) + "\n");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
