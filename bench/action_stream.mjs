#!/usr/bin/env node
// bench/action_stream: time from a decision (POST
// /v1/review/approvals/:id/resolve, sent to replica A) to its
// action_response event on GET /v1/action-responses/stream held on replica
// B (cross) or on A itself (same). Each sample makes a seed 004 approval
// (wait: none) on A first; the clock starts when the decision is sent and
// stops when the event carrying that approval arrives. Prints one JSON line
// per case.
//
// usage: node action_stream.mjs BASE_A BASE_B API_KEY AGENT_ID USER_TOKEN SAMPLES
const [a, b, key, agent, token, samplesArg] = process.argv.slice(2);
const samples = Number(samplesArg || 200);
const agentHdr = { Authorization: `Bearer ${key}`, 'X-Agent-Id': agent, 'Content-Type': 'application/json' };
const userHdr = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
const now = () => Number(process.hrtime.bigint()) / 1e6;

// One stream, reconnecting with Last-Event-ID when the server ends it.
function stream(base) {
  const waiting = new Map(); // approval id -> resolve(arrival ms)
  const seen = new Map();    // arrivals before anyone waited
  let last = null;
  let ready;
  const opened = new Promise(r => (ready = r));
  const ctl = new AbortController();
  (async () => {
    while (!ctl.signal.aborted) {
      const headers = { ...agentHdr, Accept: 'text/event-stream' };
      if (last) headers['Last-Event-ID'] = last;
      let res;
      try {
        res = await fetch(`${base}/v1/action-responses/stream`, { headers, signal: ctl.signal });
      } catch { if (ctl.signal.aborted) return; continue; }
      if (res.status !== 200) throw new Error(`stream: ${res.status}`);
      const dec = new TextDecoder();
      let buf = '';
      try {
        for await (const chunk of res.body) {
          buf += dec.decode(chunk, { stream: true });
          if (buf.includes('retry:')) ready();
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const ev = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const t = now();
            const lines = ev.split('\n');
            if (!lines.includes('event: action_response')) continue;
            const id = lines.find(l => l.startsWith('id: '));
            if (id) last = id.slice(4);
            const data = JSON.parse(lines.find(l => l.startsWith('data: ')).slice(6));
            const w = waiting.get(data.approval_id);
            if (w) { waiting.delete(data.approval_id); w(t); } else seen.set(data.approval_id, t);
          }
        }
      } catch { if (ctl.signal.aborted) return; }
    }
  })();
  return {
    opened,
    arrival(id) {
      if (seen.has(id)) { const t = seen.get(id); seen.delete(id); return Promise.resolve(t); }
      return new Promise(r => waiting.set(id, r));
    },
    close() { ctl.abort(); },
  };
}

async function post(url, headers, body) {
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${url}: ${res.status} ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

function pct(xs, p) {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

async function run(name, streamBase) {
  const s = stream(streamBase);
  await s.opened;
  const xs = [];
  for (let i = 0; i < samples + 5; i++) {
    const created = await post(`${a}/v1/approvals`, agentHdr, {
      title: `Run tool: Bash (${i})`, message: 'make deploy', wait: 'none',
      decisions: [{ key: 'allow', label: 'Allow' }, { key: 'deny', label: 'Deny', is_default_on_timeout: true }],
    });
    const arrived = s.arrival(created.approval_id);
    const t0 = now();
    await post(`${a}/v1/review/approvals/${created.approval_id}/resolve`, userHdr, { option_index: 0 });
    const t1 = await arrived;
    if (i >= 5) xs.push(t1 - t0); // the first few warm up
  }
  s.close();
  console.log(JSON.stringify({ case: name, p50_ms: +pct(xs, 50).toFixed(2), p99_ms: +pct(xs, 99).toFixed(2), samples: xs.length }));
}

await run('sse_same', a);
await run('sse_cross', b);
