#!/usr/bin/env node
// bench/inbox: latency of the inbox's first page (GET
// /v1/review/approvals?status=pending, 50 items) over HTTP with keep-alive,
// one request at a time, and of a page deep in the list (its keyset
// cursor), beside GET /healthz on the same server in the same run (the
// HTTP floor). Prints one JSON line per case.
//
// usage: node inbox.mjs BASE USER_TOKEN SAMPLES LABEL
const [base, token, samplesArg, label] = process.argv.slice(2);
const samples = Number(samplesArg || 500);
const auth = { Authorization: `Bearer ${token}` };

async function time(path, headers) {
  const t = process.hrtime.bigint();
  const res = await fetch(base + path, { headers });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body.slice(0, 200)}`);
  return [Number(process.hrtime.bigint() - t) / 1e6, body];
}

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

async function run(name, path, headers) {
  for (let i = 0; i < 20; i++) await time(path, headers); // warm up
  const xs = [];
  for (let i = 0; i < samples; i++) xs.push((await time(path, headers))[0]);
  console.log(JSON.stringify({ case: name, label, p50_ms: +pct(xs, 50).toFixed(2), p99_ms: +pct(xs, 99).toFixed(2), samples }));
}

// A cursor half-way down the list: follow next_cursor with the largest page.
async function deepCursor() {
  let cursor = null;
  let seen = 0;
  const total = Number(process.env.DEEP_ITEMS || 0);
  while (seen < total) {
    const [, body] = await time(`/v1/review/approvals?status=pending&limit=100${cursor ? `&cursor=${cursor}` : ''}`, auth);
    const j = JSON.parse(body);
    seen += j.items.length;
    if (!j.next_cursor) break;
    cursor = j.next_cursor;
  }
  return cursor;
}

await run('healthz', '/healthz', {});
await run('first_page', '/v1/review/approvals?status=pending&limit=50', auth);
const cursor = await deepCursor();
if (cursor) await run('deep_page', `/v1/review/approvals?status=pending&limit=50&cursor=${cursor}`, auth);
