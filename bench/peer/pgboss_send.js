// Peer figure for bench/create.sh: pg-boss `send` of a job carrying the same
// payload as an approval create, from CLIENTS concurrent loops for SECONDS on
// the same PostgreSQL. Prints {"sent": N, "seconds": S, "rate": R}.
//
// usage: node pgboss_send.js DATABASE_URL CLIENTS SECONDS
"use strict";

const PgBoss = require("pg-boss");

async function main() {
  const [url, clientsArg, secondsArg] = process.argv.slice(2);
  const clients = Number(clientsArg);
  const seconds = Number(secondsArg);
  const boss = new PgBoss({ connectionString: url, max: clients, supervise: false, schedule: false });
  boss.on("error", (e) => console.error(e));
  await boss.start();
  await boss.createQueue("bench");
  const payload = {
    question: "Deploy to production?",
    context_markdown: "Build #123 passed CI.",
    options: [
      { label: "Approve", value: "approve" },
      { label: "Reject", value: "reject" },
    ],
  };
  let sent = 0;
  const t0 = process.hrtime.bigint();
  const end = t0 + BigInt(Math.round(seconds * 1e9));
  const loop = async () => {
    while (process.hrtime.bigint() < end) {
      await boss.send("bench", payload);
      sent += 1;
    }
  };
  await Promise.all(Array.from({ length: clients }, loop));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  await boss.stop({ graceful: false, wait: false });
  process.stdout.write(JSON.stringify({ sent, seconds: Number(secs.toFixed(3)), rate: sent / secs }) + "\n");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
