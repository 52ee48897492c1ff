// Helpers of bench/notify.sh, all on 127.0.0.1:
//
//   node notify_bench.js receiver
//     A keep-alive HTTP receiver answering 201 to every POST (an ntfy server
//     or a push service); prints its port, then one line per request to
//     stdout: "<ms since epoch> <Topic header or ->".
//
//   node notify_bench.js raw URL N CONCURRENCY
//     The ceiling: N JSON POSTs to URL with CONCURRENCY keep-alive clients;
//     prints {"seconds": s}.
//
//   node notify_bench.js create BASE AGENT KEY N CONCURRENCY
//     Creates N approvals through POST /v1/approvals; prints {"seconds": s}.
//
//   node notify_bench.js subscribe BASE USER_TOKEN ENDPOINT
//     Registers a browser-like Web Push subscription (a fresh P-256 key and
//     auth secret) for the user.
//
//   node notify_bench.js latency BASE AGENT KEY N RECEIVER_LOG
//     Creates N approvals one after another; for each, waits for the push
//     request whose Topic is the approval's id (RECEIVER_LOG is the
//     receiver's stdout) and records created-sent → push-received. Prints
//     {"p50_ms", "p99_ms", "create_p50_ms", "create_p99_ms", "samples"}.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const http = require("http");

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const [cmd, ...a] = process.argv.slice(2);

function post(url, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body));
    const req = http.request(url, {
      method: "POST", agent,
      headers: { "Content-Type": "application/json", "Content-Length": data.length, ...headers },
    }, (res) => {
      let text = "";
      res.on("data", (c) => { text += c; });
      res.on("end", () => resolve({ status: res.statusCode, text }));
    });
    req.on("error", reject);
    req.end(data);
  });
}

async function pool(n, conc, fn) {
  let next = 0;
  const workers = Array.from({ length: conc }, async () => {
    while (next < n) {
      const i = next++;
      await fn(i);
    }
  });
  await Promise.all(workers);
}

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const question = (i) => ({
  question: `Deploy build ${i}?`, context_markdown: "Bench.",
  options: [{ label: "Approve", value: "y" }, { label: "Deny", value: "n" }], timeout_seconds: 3600,
});

async function main() {
  if (cmd === "receiver") {
    const server = http.createServer((req, res) => {
      req.on("data", () => {});
      req.on("end", () => {
        process.stdout.write(`${Date.now()} ${req.headers.topic || "-"}\n`);
        res.writeHead(201);
        res.end();
      });
    });
    server.keepAliveTimeout = 30000;
    server.listen(0, "127.0.0.1", () => process.stderr.write(`${server.address().port}\n`));
    process.on("SIGTERM", () => process.exit(0));
  } else if (cmd === "raw") {
    const [url, n, conc] = [a[0], Number(a[1]), Number(a[2])];
    const t0 = process.hrtime.bigint();
    await pool(n, conc, () => post(url, { topic: "raw", title: "x", message: "y" }));
    console.log(JSON.stringify({ seconds: Number(process.hrtime.bigint() - t0) / 1e9 }));
  } else if (cmd === "create") {
    const [base, agentId, key, n, conc] = [a[0], a[1], a[2], Number(a[3]), Number(a[4])];
    const t0 = process.hrtime.bigint();
    await pool(n, conc, async (i) => {
      const r = await post(`${base}/v1/approvals`, question(i), { "X-Agent-Id": agentId, "X-Api-Key": key });
      if (r.status !== 200) throw new Error(`create: ${r.status} ${r.text}`);
    });
    console.log(JSON.stringify({ seconds: Number(process.hrtime.bigint() - t0) / 1e9 }));
  } else if (cmd === "subscribe") {
    const [base, token, endpoint] = a;
    const ecdh = crypto.createECDH("prime256v1");
    ecdh.generateKeys();
    const r = await post(`${base}/v1/review/push-subscriptions`, {
      endpoint, keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth: crypto.randomBytes(16).toString("base64url") },
    }, { Authorization: `Bearer ${token}` });
    if (r.status !== 201) throw new Error(`subscribe: ${r.status} ${r.text}`);
  } else if (cmd === "latency") {
    const [base, agentId, key, n, log] = [a[0], a[1], a[2], Number(a[3]), a[4]];
    const lat = [], create = [];
    for (let i = 0; i < n; i++) {
      const sent = Date.now();
      const t0 = process.hrtime.bigint();
      const r = await post(`${base}/v1/approvals`, question(i), { "X-Agent-Id": agentId, "X-Api-Key": key });
      create.push(Number(process.hrtime.bigint() - t0) / 1e6);
      const topic = JSON.parse(r.text).approval_id.replace(/-/g, "");
      for (let tries = 0; ; tries++) {
        const line = fs.readFileSync(log, "utf8").split("\n").find((l) => l.endsWith(` ${topic}`));
        if (line) {
          lat.push(Number(line.split(" ")[0]) - sent);
          break;
        }
        if (tries > 2000) throw new Error(`no push for ${topic}`);
        await new Promise((res) => setTimeout(res, 1));
      }
    }
    lat.sort((x, y) => x - y);
    create.sort((x, y) => x - y);
    console.log(JSON.stringify({
      p50_ms: pct(lat, 50), p99_ms: pct(lat, 99), create_p50_ms: +pct(create, 50).toFixed(2),
      create_p99_ms: +pct(create, 99).toFixed(2), samples: lat.length,
    }));
  }
}

main().then(() => { if (cmd !== "receiver") process.exit(0); },
  (e) => { console.error(e.stack || String(e)); process.exit(1); });
