#!/usr/bin/env node
// bench/action_inbox: latency of GET /v1/action-responses pages over HTTP
// with keep-alive, one request at a time, beside GET /healthz of the same
// server in the same run (the HTTP floor). Prints one JSON line per case.
//
// usage: node action_inbox.mjs BASE API_KEY AGENT_ID SAMPLES
//   env DEEP_CURSOR (a response id half-way down), SESSION (a session id),
//   CLIENT_EVENT (one response's client_event_id), AFTER (RFC 3339: the last 50)
const [base, key, agent, samplesArg] = process.argv.slice(2);
const samples = Number(samplesArg || 500);
const auth = { Authorization: `Bearer ${key}`, 'X-Agent-Id': agent };

async function time(path, headers, want) {
  const t = process.hrtime.bigint();
  const res = await fetch(base + path, { headers });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body.slice(0, 200)}`);
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (want != null && JSON.parse(body).items.length !== want) throw new Error(`${path}: not ${want} items`);
  return ms;
}

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

async function run(name, path, headers, want = 50) {
  for (let i = 0; i < 20; i++) await time(path, headers, want); // warm up
  const xs = [];
  for (let i = 0; i < samples; i++) xs.push(await time(path, headers, want));
  console.log(JSON.stringify({ case: name, p50_ms: +pct(xs, 50).toFixed(2), p99_ms: +pct(xs, 99).toFixed(2), samples }));
}

await run('healthz', '/healthz', {}, null);
await run('first_unacked', '/v1/action-responses?limit=50', auth);
await run('first_all', '/v1/action-responses?limit=50&unacked_only=false', auth);
if (process.env.DEEP_CURSOR)
  await run('deep_all', `/v1/action-responses?limit=50&unacked_only=false&cursor=${process.env.DEEP_CURSOR}`, auth);
if (process.env.SESSION)
  await run('session_all', `/v1/action-responses?limit=50&unacked_only=false&session_id=${process.env.SESSION}`, auth);
if (process.env.CLIENT_EVENT)
  await run('client_event', `/v1/action-responses?unacked_only=false&client_event_id=${process.env.CLIENT_EVENT}`, auth, 1);
if (process.env.AFTER)
  await run('after', `/v1/action-responses?limit=50&unacked_only=false&after=${encodeURIComponent(process.env.AFTER)}`, auth);
