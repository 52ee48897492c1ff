// The web app's entry: who is signed in, the page router (history API, no
// reloads), the header, the "service unavailable" banner, and the pending
// count in the title. Each page module exports mount(main, ctx, params)
// and returns a cleanup function.

import { api, setCsrf, isSignedOut, retrying, ApiError } from './api.js';
import { subscribe } from './stream.js';
import { h } from './util.js';
import { setup as setupPush } from './push.js';
import * as inbox from './inbox.js';
import * as approval from './approval.js';
import * as historyPage from './history.js';
import * as settings from './settings.js';
import * as password from './password.js';
import * as signin from './signin.js';

const ROUTES = [
  [/^\/app\/?$/, inbox, 'inbox'],
  [/^\/app\/approvals\/([0-9a-fA-F-]{36})$/, approval, 'inbox'],
  [/^\/app\/history$/, historyPage, 'history'],
  [/^\/app\/settings$/, settings, 'settings'],
  [/^\/app\/password$/, password, 'password'],
];

const main = document.getElementById('main');
const header = document.querySelector('header.top');
const bannerEl = document.getElementById('banner');
let session = null;
let cleanup = () => {};
let pageTitle = 'Holdpoint';
let pending = null;

const banner = {
  show(text) {
    bannerEl.textContent = text;
    bannerEl.hidden = false;
  },
  hide() {
    bannerEl.hidden = true;
    bannerEl.textContent = '';
  },
};

function renderTitle() {
  const n = pending === null ? '' : `(${pending.capped ? pending.n + '+' : pending.n}) `;
  document.title = `${n}${pageTitle} · Holdpoint`;
  const badge = document.getElementById('nav-count');
  if (pending !== null && pending.n > 0) {
    badge.textContent = pending.capped ? `${pending.n}+` : String(pending.n);
    badge.setAttribute('aria-label', `${badge.textContent} pending`);
    badge.hidden = false;
  } else {
    badge.hidden = true;
  }
}

const ctx = {
  banner,
  get session() {
    return session;
  },
  setTitle(t) {
    pageTitle = t;
    renderTitle();
  },
  setPending(n, capped) {
    pending = { n, capped: !!capped };
    renderTitle();
  },
  navigate,
  signedOut,
};

function signedOut() {
  session = null;
  setCsrf(null);
  const here = location.pathname + location.search;
  navigate(here.startsWith('/app/signin') ? here : `/app/signin?next=${encodeURIComponent(here)}`, true);
}

function showHeader() {
  header.hidden = !session;
  if (!session) return;
  document.getElementById('who').textContent = `${session.user.name} · ${session.team.name}`;
  document.getElementById('nav-settings').hidden = session.user.role === 'reviewer';
}

function markNav(name) {
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function notFound() {
  ctx.setTitle('Not found');
  main.replaceChildren(h('h1', { tabindex: '-1', text: 'Page not found' }),
    h('p', {}, 'There is nothing at this address. ', h('a', { href: '/app', text: 'Go to the inbox' }), '.'));
  return () => {};
}

async function render() {
  cleanup();
  cleanup = () => {};
  banner.hide();
  const path = location.pathname;
  if (path === '/app/signin' || !session) {
    header.hidden = true;
    if (path !== '/app/signin') {
      navigate(`/app/signin?next=${encodeURIComponent(path + location.search)}`, true);
      return;
    }
    cleanup = (await signin.mount(main, ctx, [], onSignedIn)) || (() => {});
    focusMain();
    return;
  }
  showHeader();
  let page = null;
  let params = [];
  let nav = '';
  for (const [re, mod, name] of ROUTES) {
    const m = re.exec(path);
    if (m) {
      page = mod;
      params = m.slice(1);
      nav = name;
      break;
    }
  }
  markNav(nav);
  main.replaceChildren(h('p', { class: 'loading', text: 'Loading…' }));
  try {
    cleanup = page ? (await page.mount(main, ctx, params)) || (() => {}) : notFound();
  } catch (e) {
    if (isSignedOut(e)) return signedOut();
    if (e instanceof ApiError && e.status === 404) {
      cleanup = notFound();
    } else {
      console.error(e);
      main.replaceChildren(h('h1', { tabindex: '-1', text: 'Something went wrong' }),
        h('p', { text: e.message || 'The page could not be shown.' }));
    }
  }
  focusMain();
}

// Moves focus to the new page's heading so screen readers announce it.
function focusMain() {
  const h1 = main.querySelector('h1');
  (h1 || main).focus({ preventScroll: false });
}

export function navigate(path, replace = false) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render();
}

function onSignedIn(s) {
  session = s;
  setCsrf(s.csrf_token);
  startCount();
  const next = new URLSearchParams(location.search).get('next');
  navigate(next && next.startsWith('/app') && !next.startsWith('/app/signin') ? next : '/app', true);
}

// The pending count in the title on every page, from the live stream; and,
// once signed in, the "Notify me" toggle of this device.
let stopCount = null;
let pushReady = false;
function startCount() {
  if (!pushReady) {
    pushReady = true;
    setupPush(document.getElementById('push-toggle')).catch(() => {});
  }
  if (stopCount) return;
  stopCount = subscribe((kind, data) => {
    if (kind === 'ready' || kind === 'count') ctx.setPending(data.pending_count, data.pending_more);
  });
}

document.addEventListener('click', (ev) => {
  const a = ev.target.closest('a[href]');
  if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith('/app') || url.pathname.startsWith('/app/assets/')) return;
  if (a.target && a.target !== '_self') return;
  ev.preventDefault();
  if (url.pathname + url.search !== location.pathname + location.search) navigate(url.pathname + url.search);
});

window.addEventListener('popstate', () => render());

document.getElementById('signout').addEventListener('click', async () => {
  try {
    await api('DELETE', '/v1/session');
  } catch (e) {
    if (!isSignedOut(e)) {
      banner.show(`Could not sign out: ${e.message}`);
      return;
    }
  }
  if (stopCount) stopCount();
  stopCount = null;
  pending = null;
  signedOut();
});

async function start() {
  try {
    session = await retrying(() => api('GET', '/v1/session'), banner);
    setCsrf(session.csrf_token);
    startCount();
  } catch (e) {
    if (!isSignedOut(e)) banner.show(`The service could not be reached: ${e.message}`);
    session = null;
  }
  render();
}

start();
