#!/usr/bin/env node
// Notifications as people use them, in Debian's Chromium (playwright-core),
// against the real stack tests/integration/it_channels_web.c starts (the API,
// holdpoint-delivery, PostgreSQL, Redis):
//
//  - an owner adds an ntfy and an email channel in Settings → Notifications
//    and sends a test message from there (a local ntfy receiver records it;
//    the row then shows "Sent");
//  - an agent asks; the email (a local `smtp-server`, parsed with
//    `mailparser`) carries one signed link per option; opening "Approve" in
//    a browser without a session shows a confirmation page and decides
//    nothing until the button is pressed; then the approval is decided, as
//    the member it was mailed to;
//  - the web app is an installable PWA: the manifest is linked, the service
//    worker controls /app, and a push delivered to it (DevTools'
//    ServiceWorker.deliverPushMessage) shows a notification with the
//    question and Approve / Deny actions.
//
// usage: node channels.mjs CONFIG.json
// CONFIG: {base, owner: {email, password, agent_id, api_key, user_token}}
// Prints one line per check and "N passed, N failed"; exits 1 on any failure.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { check, finish, launchChromium, step } from './harness.mjs';

const require = createRequire(import.meta.url);
const { SMTPServer } = require('smtp-server');
const { simpleParser } = require('mailparser');

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const BASE = cfg.base;

async function waitFor(fn, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---- local receivers -----------------------------------------------------
const ntfy = [];
const ntfyServer = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    try { ntfy.push(JSON.parse(body)); } catch (e) { ntfy.push({ unparsed: body }); }
    res.writeHead(200);
    res.end('{}');
  });
});
await new Promise((r) => ntfyServer.listen(0, '127.0.0.1', r));
const mails = [];
const smtp = new SMTPServer({
  disabledCommands: ['STARTTLS'],
  authOptional: false,
  logger: false,
  onAuth(auth, session, cb) {
    cb(auth.username === 'mailer' && auth.password === 'mail-pw' ? null : new Error('no'), { user: auth.username });
  },
  onData(stream, session, cb) {
    simpleParser(stream).then((m) => { mails.push(m); cb(); }, cb);
  },
});
await new Promise((r) => smtp.listen(0, '127.0.0.1', r));
const ntfyPort = ntfyServer.address().port;
const smtpPort = smtp.server.address().port;

async function agent(method, path, body) {
  const res = await fetch(BASE + path, {
    method,
    headers: { 'X-Agent-Id': cfg.owner.agent_id, 'X-Api-Key': cfg.owner.api_key, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

async function reviewer(path) {
  const res = await fetch(BASE + path, { headers: { Authorization: `Bearer ${cfg.owner.user_token}` } });
  return res.json();
}

const browser = await launchChromium();

try {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();

  await step('sign in', async () => {
    await page.goto(`${BASE}/app/signin`);
    await page.getByLabel('Email').fill(cfg.owner.email);
    await page.getByLabel('Password').fill(cfg.owner.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${BASE}/app`);
    check(true, 'signed in');
  });

  await step('settings: add channels and send a test', async () => {
    await page.goto(`${BASE}/app/settings`);
    await page.getByRole('heading', { name: 'Notifications' }).waitFor();
    await page.locator('#channel-kind').selectOption('ntfy');
    await page.locator('#channel-name').fill('Phones');
    await page.locator('#channel-url').fill(`http://127.0.0.1:${ntfyPort}/`);
    await page.locator('#channel-topic').fill('e2e');
    await page.getByRole('button', { name: 'Add channel' }).click();
    const row = page.locator('tr', { has: page.getByRole('rowheader', { name: 'Phones' }) });
    await row.waitFor();
    check(await row.getByText(`http://127.0.0.1:${ntfyPort}/ · e2e`).isVisible(), 'ntfy channel listed');
    await page.getByRole('button', { name: 'Send a test message through Phones' }).click();
    const test = await waitFor(() => ntfy.find((m) => m.title === 'Holdpoint test message'));
    check(!!test && test.topic === 'e2e', 'the test message reached ntfy', JSON.stringify(ntfy));
    await waitFor(async () => {
      await page.goto(`${BASE}/app/settings`);
      await row.waitFor();
      return (await row.locator('.channel-status').innerText()).startsWith('Sent');
    });
    check((await row.locator('.channel-status').innerText()).startsWith('Sent'), 'the row shows the last success');

    await page.locator('#channel-kind').selectOption('email');
    await page.locator('#channel-name').fill('Mail');
    await page.locator('#channel-host').fill('127.0.0.1');
    await page.locator('#channel-port').fill(String(smtpPort));
    await page.locator('#channel-tls').selectOption('none');
    await page.locator('#channel-username').fill('mailer');
    await page.locator('#channel-password').fill('mail-pw');
    await page.locator('#channel-from').fill('holdpoint@example.com');
    await page.getByRole('button', { name: 'Add channel' }).click();
    await page.getByRole('rowheader', { name: 'Mail' }).waitFor();
    check(true, 'email channel added');

    // A refused URL: the rule is shown, nothing is added.
    await page.locator('#channel-kind').selectOption('webhook');
    await page.locator('#channel-name').fill('Private');
    await page.locator('#channel-url').fill('http://10.1.2.3/hook');
    await page.getByRole('button', { name: 'Add channel' }).click();
    const err = page.locator('#notifications-box .error').first();
    await waitFor(async () => (await err.innerText()).includes('private'));
    check((await err.innerText()).includes('url: host is a private address'), 'a private URL is refused with its rule',
      await err.innerText());
  });

  let approval = null;
  await step('an emailed link decides after a confirmation', async () => {
    const r = await agent('POST', '/v1/approvals', {
      question: 'Promote build 7 to production?',
      context_markdown: 'Tests are **green**.',
      options: [{ label: 'Approve', value: 'yes' }, { label: 'Deny', value: 'no' }],
      timeout_seconds: 900,
    });
    approval = r.json.approval_id;
    const mail = await waitFor(() => mails.find((m) => m.subject === '[Holdpoint] Promote build 7 to production?'));
    check(!!mail, 'the mail arrived');
    check(mail.html.includes('<strong>green</strong>'), 'the context is rendered in the mail');
    const links = [...mail.html.matchAll(/href="([^"]+)"/g)].map((m) => m[1].replace(/&amp;/g, '&'));
    const approve = links.find((l) => l.includes('/app/link/'));
    const stranger = await browser.newContext(); // no session: as from a mail client
    const p2 = await stranger.newPage();
    await p2.goto(approve);
    check(await p2.getByRole('button', { name: 'Confirm: Approve' }).isVisible(), 'the link shows a confirmation');
    const before = await reviewer(`/v1/review/approvals/${approval}`);
    check(before.status === 'pending', 'opening the link decided nothing');
    await p2.getByRole('button', { name: 'Confirm: Approve' }).click();
    await p2.getByRole('heading', { name: 'Decision recorded' }).waitFor();
    const after = await reviewer(`/v1/review/approvals/${approval}`);
    check(after.status === 'selected_option' && after.selected_option_index === 0, 'decided as Approve', JSON.stringify(after));
    check(after.resolved_by && after.resolved_by.user_id, 'recorded the member it was mailed to', JSON.stringify(after.resolved_by));
    await p2.goto(approve);
    check(await p2.getByText('Already decided: Approve').isVisible(), 'a second visit shows the outcome');
    await stranger.close();
  });

  await step('pwa: manifest, service worker, a push shows its actions', async () => {
    await page.goto(`${BASE}/app`);
    const href = await page.locator('link[rel=manifest]').getAttribute('href');
    check(href === '/app/manifest.webmanifest', 'the manifest is linked');
    const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
    check(scope === `${new URL(BASE).origin}/app`, 'the service worker controls /app', scope);
    await page.locator('#push-toggle').waitFor({ state: 'visible', timeout: 15000 });
    check(await page.locator('#push-toggle').isVisible(), 'the "Notify me" button is offered');
    await ctx.grantPermissions(['notifications'], { origin: BASE });
    const cdp = await ctx.newCDPSession(page);
    const regs = [];
    const versions = [];
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => regs.push(...e.registrations));
    cdp.on('ServiceWorker.workerVersionUpdated', (e) => versions.push(...e.versions));
    await cdp.send('ServiceWorker.enable');
    const reg = await waitFor(() => regs.find((r) => r.scopeURL.endsWith('/app') && !r.isDeleted));
    // Delivered to the active version: wait until the worker runs.
    await waitFor(() => versions.find((v) => v.registrationId === reg.registrationId && v.runningStatus === 'running'
      && v.status === 'activated'));
    const payload = {
      title: 'Restart the cache?', body: 'It holds sessions.', tag: 'e2e-tag', event: 'created',
      approval_id: '00000000-0000-4000-8000-000000000000', url: '/app/approvals/00000000-0000-4000-8000-000000000000',
      actions: [{ action: 'opt0', title: 'Approve', url: `${BASE}/app/link/x` }, { action: 'opt1', title: 'Deny', url: `${BASE}/app/link/y` }],
    };
    // DevTools may drop a push that arrives while the worker is being
    // restarted on a loaded machine: delivered again (same tag, so at most
    // one notification) until one shows, for up to a minute.
    let shown = null;
    for (let i = 0; i < 4 && !shown; i++) {
      await cdp.send('ServiceWorker.deliverPushMessage', {
        origin: new URL(BASE).origin, registrationId: reg.registrationId, data: JSON.stringify(payload),
      });
      shown = await waitFor(() => page.evaluate(async () => {
        const r = await navigator.serviceWorker.ready;
        return (await r.getNotifications()).map((n) => ({ title: n.title, body: n.body, actions: n.actions.map((a) => a.title) }));
      }).then((l) => (l.length ? l : null)));
    }
    check(!!shown && shown[0].title === 'Restart the cache?' && shown[0].body === 'It holds sessions.',
      'the push shows the question', JSON.stringify(shown));
    check(!!shown && shown[0].actions.join(',') === 'Approve,Deny', 'with Approve and Deny', JSON.stringify(shown));
  });
} finally {
  await browser.close();
  ntfyServer.close();
  smtp.close();
}

finish();
