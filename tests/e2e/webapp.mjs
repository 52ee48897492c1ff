#!/usr/bin/env node
// End-to-end tests of the web app at /app in a real browser: Debian's
// Chromium driven by playwright-core, against the real stack that
// tests/integration/it_webapp.c starts (two holdpoint-api replicas, both
// workers, the make test PostgreSQL and Redis). axe-core checks
// accessibility in the page.
//
// usage: node webapp.mjs CONFIG.json
// CONFIG: {base_a, base_b, run_dir, services_sh, screenshots,
//          owner: {email, password, team_id, agent_id, api_key},
//          reviewer: {email, password}, victim: {email},
//          other: {approval_id}}
// Prints one line per check and "N passed, N failed"; exits 1 on any failure.

import { readFileSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { check, finish, launchChromium, step } from './harness.mjs';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const A = cfg.base_a;
const B = cfg.base_b;

// The agent's side, over plain HTTP as an agent would.
async function agent(base, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: {
      'X-Agent-Id': cfg.owner.agent_id,
      'X-Api-Key': cfg.owner.api_key,
      ...(body ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

let seq = 0;
async function createApproval(question, extra = {}) {
  const rid = `e2e-${process.pid}-${++seq}`;
  const r = await agent(A, 'POST', '/v1/approvals', {
    request_id: rid,
    question,
    context_markdown: extra.context_markdown ?? 'The **staging** deploy finished; production is next.',
    options: extra.options ?? [
      { label: 'Approve', value: 'approve' },
      { label: 'Reject', value: 'reject' },
    ],
    timeout_seconds: extra.timeout_seconds ?? 3600,
    session_id: extra.session_id ?? 'sess-e2e',
    metadata: extra.metadata ?? { tool_name: 'Bash', command: 'kubectl rollout restart deploy/web' },
  });
  if (r.status !== 200) throw new Error(`create answered ${r.status}: ${JSON.stringify(r.json)}`);
  return { id: r.json.approval_id, rid };
}

const browser = await launchChromium();

const cspViolations = [];
async function newPage(opts = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...opts });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  page.on('pageerror', (e) => console.log(`  page error: ${e.message}`));
  return { context, page };
}

function linkTo(page, id) {
  return page.locator(`main a[href="/app/approvals/${id}"]`);
}

async function signIn(page, base, who) {
  await page.goto(`${base}/app`);
  await page.waitForURL(/\/app\/signin/);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor({ timeout: 10000 });
}

async function axe(page, what) {
  // Evaluated through the DevTools protocol, which the page's CSP does not
  // govern (a script tag would be refused, as it should be).
  await page.evaluate(AXE);
  const res = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }));
  });
  const bad = res.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(bad.length === 0, `axe: no serious or critical violations on ${what}`, JSON.stringify(bad));
  const minor = res.filter((v) => !bad.includes(v));
  if (minor.length) console.log(`  axe (minor, ${what}): ${minor.map((v) => `${v.id}(${v.impact})`).join(', ')}`);
}

async function shot(page, name) {
  if (!cfg.screenshots) return;
  mkdirSync(cfg.screenshots, { recursive: true });
  for (const width of [375, 1280]) {
    await page.setViewportSize({ width, height: width === 375 ? 812 : 900 });
    await page.waitForTimeout(100); // layout settles after the resize
    await page.screenshot({ path: `${cfg.screenshots}/${name}-${width}.png`, fullPage: width === 1280 });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

// ---------------------------------------------------------------------------

const owner = { ...cfg.owner };
const one = await newPage();
const two = await newPage();

await step('sign in', async () => {
  await signIn(one.page, A, owner);
  check(true, 'owner signs in on replica A and sees the inbox');
  const cookies = await one.context.cookies();
  const c = cookies.find((x) => x.name === 'hp_session');
  check(c && c.httpOnly && c.sameSite === 'Lax', 'the session cookie is HttpOnly and SameSite=Lax', JSON.stringify(c));
  await signIn(two.page, B, owner);
  check(true, 'a second browser signs in on replica B');
});

let first;
await step('live inbox', async () => {
  await one.page.getByText('Live', { exact: true }).waitFor({ timeout: 10000 });
  await two.page.getByText('Live', { exact: true }).waitFor({ timeout: 10000 });
  const navs = [];
  one.page.on('framenavigated', (f) => f === one.page.mainFrame() && navs.push(f.url()));
  first = await createApproval('Restart the production web deployment?');
  await linkTo(one.page, first.id).waitFor({ timeout: 5000 });
  check(navs.length === 0, 'an approval created over /v1 appears in the inbox without a reload', navs.join(' '));
  await linkTo(two.page, first.id).waitFor({ timeout: 5000 });
  check(true, 'and in the inbox of the browser on the other replica');
  // Two more from another session, so the inbox has some company.
  const more = [
    await createApproval('Delete 1,204 stale objects from the backups bucket?', {
      session_id: 'sess-cleanup', metadata: { tool_name: 'Bash', command: 'aws s3 rm --recursive' },
    }),
    await createApproval('Send the weekly digest to 4,000 customers?', {
      session_id: 'sess-mailer', metadata: { tool_name: 'send_campaign' },
    }),
  ];
  for (const m of more) await linkTo(one.page, m.id).waitFor({ timeout: 5000 });
  await one.page.waitForFunction(() => /^\(\d+\+?\) Inbox/.test(document.title), null, { timeout: 5000 });
  check(/^\(\d+\+?\) Inbox · Holdpoint$/.test(await one.page.title()), 'the page title shows the pending count', await one.page.title());
  await shot(one.page, 'inbox');
  await axe(one.page, 'the inbox');
});

await step('decide', async () => {
  // An agent waits on replica B; browser two watches the decision page on B.
  const t0 = Date.now();
  const waiting = agent(B, 'GET', `/v1/approvals/${first.rid}/result?wait=30`);
  await two.page.goto(`${B}/app/approvals/${first.id}`);
  await two.page.getByRole('heading', { level: 1, name: 'Restart the production web deployment?' }).waitFor();
  // Keyboard only in browser one: from the inbox link to the decision.
  await linkTo(one.page, first.id).focus();
  await one.page.keyboard.press('Enter');
  await one.page.getByRole('heading', { level: 1, name: 'Restart the production web deployment?' }).waitFor();
  check(await one.page.getByText('kubectl rollout restart deploy/web').isVisible(), 'the decision page shows who asked (tool and command)');
  check(await one.page.locator('.md strong', { hasText: 'staging' }).count() === 1, 'context_markdown is rendered');
  check(/left$/.test((await one.page.locator('.countdown').textContent()) || ''), 'a live countdown is shown');
  await shot(one.page, 'decision');
  await axe(one.page, 'the decision page');
  await one.page.getByRole('button', { name: 'Approve' }).focus();
  const clicked = Date.now();
  await one.page.keyboard.press('Enter');
  await one.page.locator('.outcome', { hasText: /^Decided by .*“Approve”\.$/ }).waitFor({ timeout: 5000 });
  check(true, 'deciding shows the result at once', `${Date.now() - clicked} ms`);
  const decidedAt = Date.now();
  await two.page.locator('.outcome', { hasText: /^Decided by .*“Approve”\.$/ }).waitFor({ timeout: 5000 });
  const lag = Date.now() - decidedAt;
  check(lag <= 1000, 'a second browser on the other replica sees it decided within a second', `${lag} ms`);
  check(await two.page.getByRole('button', { name: 'Approve' }).count() === 0, 'and offers no buttons any more');
  const r = await waiting;
  check(r.status === 200 && r.json.status === 'selected_option' && r.json.selected_option_value === 'approve',
    'the agent waiting with ?wait= on the other replica is released with the decision', `${JSON.stringify(r.json)} after ${Date.now() - t0} ms`);
  await one.page.getByRole('cell', { name: 'Decided (option 1)' }).waitFor({ timeout: 5000 });
  check(await one.page.getByRole('cell', { name: 'web' }).count() >= 1, 'the audit trail shows the decision and its surface');
  // The inbox of browser one no longer lists it.
  await one.page.getByRole('link', { name: '← Inbox' }).click();
  await one.page.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();
  check(await linkTo(one.page, first.id).count() === 0, 'the decided approval left the inbox');
});

let dropIndex;
await step('decided elsewhere first', async () => {
  const a = await createApproval('Drop the old index?');
  dropIndex = a;
  await one.page.goto(`${A}/app/approvals/${a.id}`);
  await one.page.getByRole('button', { name: 'Reject' }).waitFor();
  // Someone else decides through the API (their own user token) first.
  const res = await fetch(`${B}/v1/review/approvals/${a.id}/resolve`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${cfg.owner.user_token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ custom_instruction: 'Wait until Monday.' }),
  });
  check(res.status === 200, 'another decision is made through the reviewer API', String(res.status));
  // The live update may already have redrawn the page; either way the page
  // ends up saying who decided, and offers no buttons.
  const btn = one.page.getByRole('button', { name: 'Reject' });
  if (await btn.count()) await btn.click().catch(() => {});
  await one.page.getByText(/Instruction given by .*“Wait until Monday\.”/).first().waitFor({ timeout: 5000 });
  check(await one.page.getByRole('button', { name: 'Reject' }).count() === 0, 'the page says who decided first and disables the buttons');
});

await step('already resolved (409)', async () => {
  // Without the live stream the page cannot know: the click itself meets
  // the API's 409 already_resolved, and the page says who decided first.
  const { context, page } = await newPage();
  await context.route('**/v1/review/stream*', (route) => route.abort());
  await signIn(page, A, owner);
  const a = await createApproval('Scale the workers down?');
  await page.goto(`${A}/app/approvals/${a.id}`);
  await page.getByRole('button', { name: 'Approve' }).waitFor();
  const res = await fetch(`${B}/v1/review/approvals/${a.id}/resolve`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${cfg.owner.user_token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ option_index: 1 }),
  });
  check(res.status === 200, 'decided elsewhere first', String(res.status));
  const answers = [];
  page.on('response', (r) => r.url().endsWith('/resolve') && answers.push(r.status()));
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.locator('.outcome', { hasText: /^Someone else got there first\. Decided by .*“Reject”\.$/ }).waitFor({ timeout: 5000 });
  check(answers[0] === 409, 'the API answered 409 already_resolved', JSON.stringify(answers));
  check(await page.getByRole('button', { name: 'Approve' }).count() === 0, 'the page says who decided first and when, and disables the buttons');
  // A cancelled approval shows its outcome.
  const c = await createApproval('Run the migration now?');
  const cancel = await agent(A, 'POST', `/v1/approvals/${c.rid}/cancel`);
  check(cancel.status === 200, 'the agent cancels an approval', JSON.stringify(cancel.json));
  await page.goto(`${A}/app/approvals/${c.id}`);
  await page.locator('.outcome', { hasText: /^Cancelled by the agent on / }).waitFor({ timeout: 5000 });
  check(await page.getByRole('button', { name: 'Approve' }).count() === 0, 'a cancelled approval shows its outcome and no buttons');
  await context.close();
});

await step('markdown is safe', async () => {
  const md = [
    '<script>window.__xss = "script"</script>',
    '',
    'Look: <img src=x onerror="window.__xss = \'img\'"> here.',
    '',
    '[click me](javascript:window.__xss="link") and [data](data:text/html,<script>alert(1)</script>)',
    '',
    '[docs](https://example.com/docs)',
  ].join('\n');
  const a = await createApproval('Is this context safe?', { context_markdown: md });
  for (const [label, ctx] of [['with the CSP', one], ['without the CSP', null]]) {
    const { context, page } = ctx || (await newPage({ bypassCSP: true }));
    if (!ctx) await signIn(page, A, owner);
    await page.goto(`${A}/app/approvals/${a.id}`);
    await page.getByRole('heading', { level: 1, name: 'Is this context safe?' }).waitFor();
    const md = page.locator('.md');
    const state = await page.evaluate(() => ({
      xss: window.__xss,
      scripts: document.querySelectorAll('.md script').length,
      imgs: document.querySelectorAll('.md img').length,
      handlers: [...document.querySelectorAll('.md *')].filter((e) => [...e.attributes].some((x) => x.name.startsWith('on'))).length,
      badLinks: [...document.querySelectorAll('.md a[href]')].filter((e) => !/^https?:/i.test(e.getAttribute('href'))).length,
    }));
    check(state.scripts === 0 && state.imgs === 0 && state.handlers === 0, `raw HTML does not reach the page (${label})`, JSON.stringify(state));
    check(state.badLinks === 0, `javascript: and data: links do not render as links (${label})`, JSON.stringify(state));
    await md.getByText('click me').click();
    await page.waitForTimeout(200);
    check((await page.evaluate(() => window.__xss)) === undefined, `nothing executes, even after a click (${label})`);
    check(await md.getByRole('link', { name: 'docs' }).getAttribute('href') === 'https://example.com/docs', `safe links stay links (${label})`);
    if (!ctx) await context.close();
  }
});

await step('csrf', async () => {
  const a = await createApproval('Rotate the signing key?');
  await one.page.goto(`${A}/app/approvals/${a.id}`);
  await one.page.getByRole('button', { name: 'Approve' }).waitFor();
  const r = await one.page.evaluate(async (id) => {
    const res = await fetch(`/v1/review/approvals/${id}/resolve`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ option_index: 0 }),
    });
    return { status: res.status, body: await res.json() };
  }, a.id);
  check(r.status === 403 && r.body.error === 'csrf_failed', 'a state change without the CSRF token is refused', JSON.stringify(r));
  const still = await agent(A, 'GET', `/v1/approvals/${a.rid}/result`);
  check(still.json.status === 'pending', 'and changes nothing', JSON.stringify(still.json));
});

await step('settings', async () => {
  await one.page.goto(`${A}/app/settings`);
  await one.page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
  await one.page.getByRole('heading', { level: 2, name: 'Agents' }).waitFor();
  await one.page.getByRole('table', { name: 'API keys of this team' }).waitFor();
  await one.page.getByLabel('Name', { exact: true }).fill('release-draft');
  await one.page.getByRole('button', { name: 'Create agent' }).click();
  const secret = one.page.locator('.secret-value');
  await secret.first().waitFor();
  check(/^whsec_/.test(await secret.first().textContent()), 'a new agent shows its webhook signing secret once');
  // Renamed and its defaults changed later, from the row's Edit button.
  await one.page.getByRole('button', { name: 'Edit release-draft' }).click();
  const edit = one.page.getByRole('form', { name: 'Edit release-draft' });
  await edit.waitFor();
  check(await one.page.evaluate(() => document.activeElement && document.activeElement.id) === 'agent-edit-h',
    'the edit form takes the focus');
  await axe(one.page, 'the settings page with an agent being edited');
  check(await edit.getByLabel('Name', { exact: true }).inputValue() === 'release-draft', 'the edit form shows the current name');
  await edit.getByLabel('Name', { exact: true }).fill('release-bot');
  await edit.getByLabel('Default timeout (seconds)').fill('900');
  await edit.getByLabel('When time runs out').selectOption('expire_with_predefined_instruction');
  await edit.getByLabel('Instruction on timeout').fill('Hold the release.');
  await edit.getByLabel('Callback auth header', { exact: true }).selectOption('replace');
  await edit.getByLabel('New callback auth header name').fill('X-Release-Token');
  await edit.getByLabel('New callback auth header value').fill('release-secret-1');
  await edit.getByRole('button', { name: 'Save' }).click();
  const row = one.page.getByRole('row', { name: /release-bot/ });
  await row.getByText('900 s').waitFor();
  check(await row.getByText('instruction: Hold the release.').count() === 1 && await row.getByText('X-Release-Token').count() === 1,
    'the saved defaults and header show in the agents table', await row.textContent());
  const saved = await one.page.evaluate(async () => (await (await fetch('/v1/settings/agents')).json()).items
    .find((a) => a.name === 'release-bot'));
  check(saved !== undefined && saved.default_timeout_seconds === 900 && saved.default_timeout_mode === 'expire_with_predefined_instruction'
    && saved.callback_auth_header === 'X-Release-Token' && !JSON.stringify(saved).includes('release-secret-1'),
  'the change is stored, and the header value is never shown', JSON.stringify(saved));
  check(await one.page.getByRole('form', { name: /^Edit release-/ }).count() === 0, 'the edit form closes once saved');
  check(await one.page.getByRole('row', { name: /release-draft/ }).count() === 0, 'the old name is gone from the table');
  await one.page.getByRole('button', { name: 'Create key' }).click();
  const keys = one.page.getByRole('region', { name: 'API keys' });
  await keys.getByText('New API key:').waitFor();
  const key = (await keys.locator('.secret-value').textContent()).trim();
  check(/^hpk_/.test(key), 'a new API key is shown once');
  const use = await fetch(`${B}/v1/agents`, { headers: { 'X-Api-Key': key } });
  check(use.status === 200, 'the new key works on the other replica', String(use.status));
  one.page.once('dialog', (d) => d.accept());
  const prefix = key.split('_').slice(0, 2).join('_');
  await one.page.getByRole('button', { name: `Revoke key ${prefix}` }).click();
  await one.page.getByRole('row', { name: new RegExp(prefix) }).getByText(/^revoked/).waitFor();
  const after = await fetch(`${B}/v1/agents`, { headers: { 'X-Api-Key': key } });
  check(after.status === 401, 'a revoked key answers 401 at once on every replica', String(after.status));
  await shot(one.page, 'settings');
  await axe(one.page, 'the settings page');
});

await step('reviewer', async () => {
  const { context, page } = await newPage();
  await signIn(page, A, cfg.reviewer);
  check(await page.getByRole('link', { name: 'Settings' }).count() === 0, 'a reviewer sees no settings link');
  await page.goto(`${A}/app/settings`);
  await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
  const r = await page.evaluate(async () => (await fetch('/v1/settings/agents')).status);
  check(r === 404, 'a reviewer cannot reach settings (404)', String(r));
  await context.close();
});

await step('other team', async () => {
  await one.page.goto(`${A}/app/approvals/${cfg.other.approval_id}`);
  await one.page.getByRole('heading', { level: 1, name: 'No such approval' }).waitFor();
  const r = await one.page.evaluate(async (id) => (await fetch(`/v1/review/approvals/${id}`)).status, cfg.other.approval_id);
  check(r === 404, "another team's approval id gives 404", String(r));
});

await step('history', async () => {
  await one.page.goto(`${A}/app/history`);
  await one.page.getByRole('heading', { level: 1, name: 'History' }).waitFor();
  await one.page.getByLabel('Text in the question').fill('old index');
  await one.page.getByRole('button', { name: 'Apply filters' }).click();
  await linkTo(one.page, dropIndex.id).waitFor();
  const rows = await one.page.locator('.rows li h3').allTextContents();
  check(rows.length >= 1 && rows.every((t) => /old index/.test(t)), 'history filters by text in the question', rows.join(' | '));
  check(/q=old\+index/.test(one.page.url()), 'the filters are kept in the address', one.page.url());
});

await step('throttling', async () => {
  const { context, page } = await newPage();
  await page.goto(`${A}/app/signin`);
  let text = '';
  for (let i = 0; i < 6 && !/Too many/.test(text); i++) {
    await page.getByLabel('Email').fill(cfg.victim.email);
    await page.getByLabel('Password').fill(`wrong-${i}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#signin-error:not(:empty)').waitFor();
    text = await page.locator('#signin-error').textContent();
    await page.waitForFunction(() => !document.querySelector('button[type=submit]').disabled);
  }
  check(/Too many failed sign-ins/.test(text), 'sign-in throttling answers 429 and the page says so', text);
  await context.close();
});

await step('postgresql down', async () => {
  const { context, page } = await newPage();
  await signIn(page, A, owner);
  await page.getByText('Live', { exact: true }).waitFor({ timeout: 10000 });
  execFileSync(cfg.services_sh, ['pg-stop', cfg.run_dir], { stdio: 'inherit' });
  try {
    await page.goto(`${A}/app/history`);
    await page.getByText(/The service is unavailable right now/).waitFor({ timeout: 15000 });
    check(true, 'with PostgreSQL down the page says the service is unavailable');
  } finally {
    execFileSync(cfg.services_sh, ['pg-start', cfg.run_dir], { stdio: 'inherit' });
  }
  await page.getByRole('heading', { level: 1, name: 'History' }).waitFor({ timeout: 30000 });
  await page.waitForFunction(() => document.getElementById('banner').hidden, null, { timeout: 30000 });
  check(true, 'and retries by itself until it is back');
  await page.goto(`${A}/app`);
  await page.getByText('Live', { exact: true }).waitFor({ timeout: 30000 });
  const a = await createApproval('Did the stream come back?');
  await linkTo(page, a.id).waitFor({ timeout: 10000 });
  check(true, 'the live stream reconnects by itself');
  await context.close();
});

check(cspViolations.length === 0, 'the pages cause no Content-Security-Policy violations', cspViolations.join(' | '));
await browser.close();
finish();
