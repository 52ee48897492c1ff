// Peer figure for bench/delivery.sh: graphile-worker working a backlog of N
// jobs, each the same signed POST holdpoint-delivery sends (the same body to
// the same keep-alive receiver, with the Standard Webhooks headers: an
// HMAC-SHA256 over "id.timestamp.body"), with the same concurrency on the
// same PostgreSQL. Prints {"jobs": N, "seconds": S, "rate": R}.
//
// usage: node graphile_post.js DATABASE_URL N CONCURRENCY URL BODY [queue|run]
// ("queue" only queues the N jobs, "run" only works them, so a caller can
// measure the working alone; both when absent)
"use strict";

const crypto = require("crypto");
const http = require("http");
const { Logger, run, runMigrations } = require("graphile-worker");
const { Client } = require("pg");

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const key = crypto.randomBytes(32);

function post(url, body, id) {
  const ts = Math.floor(Date.now() / 1000).toString();
  const sig = crypto.createHmac("sha256", key).update(`${id}.${ts}.${body}`).digest("base64");
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: "POST",
        agent,
        headers: {
          "Content-Type": "application/json",
          "Content-Length": Buffer.byteLength(body),
          "webhook-id": id,
          "webhook-timestamp": ts,
          "webhook-signature": `v1,${sig}`,
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => (res.statusCode < 300 ? resolve() : reject(new Error(`http ${res.statusCode}`))));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function main() {
  const [dbUrl, nArg, concArg, url, body, mode] = process.argv.slice(2);
  const n = Number(nArg);
  const concurrency = Number(concArg);
  const logger = new Logger(() => (level, message) => console.error(`[${level}] ${message}`));

  if (mode !== "run") {
    await runMigrations({ connectionString: dbUrl, logger });
    const c = new Client({ connectionString: dbUrl });
    await c.connect();
    await c.query(
      "select graphile_worker.add_job('post', json_build_object('url', $2::text, 'body', $3::text, " +
        "'id', 'msg_' || gen_random_uuid())) from generate_series(1, $1)",
      [n, url, body],
    );
    await c.end();
    if (mode === "queue") return;
  }

  let done = 0;
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  const t0 = process.hrtime.bigint();
  const runner = await run({
    connectionString: dbUrl,
    concurrency,
    maxPoolSize: concurrency + 2,
    logger,
    noHandleSignals: true,
    pollInterval: 1000,
    taskList: {
      post: async (p) => {
        await post(p.url, p.body, p.id);
        done += 1;
        if (done === n) finish(process.hrtime.bigint());
      },
    },
  });
  const t1 = await finished;
  await runner.stop();
  agent.destroy();
  const seconds = Number(t1 - t0) / 1e9;
  process.stdout.write(JSON.stringify({ jobs: n, seconds: Number(seconds.toFixed(3)), rate: n / seconds }) + "\n");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
