#!/usr/bin/env node
// bench/inbox_live: time from a decision sent to replica A to the inbox in
// a browser connected to replica B showing it (the approval leaves the
// list), beside the time the same decision takes to release a long-poll
// (GET …/result?wait=30) waiting on replica B — both measured from the same
// decision, in the same run. The browser records the moment with a
// MutationObserver; both clocks are this machine's.
//
// usage: node inbox_live.mjs A B EMAIL PASSWORD AGENT_ID API_KEY USER_TOKEN SAMPLES
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const require = createRequire(resolve(dirname(fileURLToPath(import.meta.url)), '../tests/e2e/package.json'));
const { chromium } = require('playwright-core');
const [A, B, email, password, agentId, apiKey, userToken, samplesArg] = process.argv.slice(2);
const samples = Number(samplesArg || 50);

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await (await browser.newContext()).newPage();
await page.goto(`${B}/app/signin`);
await page.getByLabel('Email').fill(email);
await page.getByLabel('Password').fill(password);
await page.getByRole('button', { name: 'Sign in' }).click();
await page.getByText('Live', { exact: true }).waitFor({ timeout: 20000 });
await page.evaluate(() => {
  window.__gone = {};
  new MutationObserver((muts) => {
    for (const m of muts) for (const n of m.removedNodes) if (n.dataset && n.dataset.id) window.__gone[n.dataset.id] = Date.now();
  }).observe(document.querySelector('ul.cards'), { childList: true });
});

const agentHeaders = { 'X-Agent-Id': agentId, 'X-Api-Key': apiKey, 'Content-Type': 'application/json' };
const ui = [];
const lp = [];
for (let i = 0; i < samples + 3; i++) {
  const rid = `live-${process.pid}-${i}`;
  const c = await fetch(`${A}/v1/approvals`, {
    method: 'POST',
    headers: agentHeaders,
    body: JSON.stringify({ request_id: rid, question: `Live ${i}?`, context_markdown: 'x',
      options: [{ label: 'Yes', value: 'y' }, { label: 'No', value: 'n' }] }),
  }).then((r) => r.json());
  await page.locator(`li[data-id="${c.approval_id}"]`).waitFor({ timeout: 10000 });
  const waiting = fetch(`${B}/v1/approvals/${rid}/result?wait=30`, { headers: agentHeaders });
  await new Promise((r) => setTimeout(r, 100)); // the long-poll is registered
  const t0 = Date.now();
  const res = await fetch(`${A}/v1/review/approvals/${c.approval_id}/resolve`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${userToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ option_index: 0 }),
  });
  if (res.status !== 200) throw new Error(`resolve: ${res.status}`);
  await waiting.then((r) => r.text());
  const tl = Date.now();
  await page.waitForFunction((id) => window.__gone[id], c.approval_id, { timeout: 10000 });
  const tu = await page.evaluate((id) => window.__gone[id], c.approval_id);
  if (i >= 3) {
    ui.push(tu - t0);
    lp.push(tl - t0);
  }
}
await browser.close();
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
console.log(JSON.stringify({ case: 'browser', p50_ms: pct(ui, 50), p99_ms: pct(ui, 99), samples }));
console.log(JSON.stringify({ case: 'longpoll', p50_ms: pct(lp, 50), p99_ms: pct(lp, 99), samples }));
