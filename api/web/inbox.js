// /app: the team's pending approvals, newest first, with keyset paging
// ("Show more") and live updates from the stream: new approvals appear,
// decided, cancelled and expired ones leave, and the count follows.

import { api, retrying } from './api.js';
import { subscribe } from './stream.js';
import { h, fmtAgo, fmtLeft, startCountdowns, announce } from './util.js';

const PAGE = 25;

export async function mount(main, ctx) {
  let stopped = false;
  let cursor = null; // next page of the list, null when none
  const items = new Map(); // approval_id -> {a, el}
  const list = h('ul', { class: 'cards', 'aria-labelledby': 'inbox-h' });
  const count = h('p', { class: 'count', id: 'inbox-count' });
  const empty = h('p', { class: 'empty', text: 'Nothing is waiting for you. New questions appear here as agents ask them.' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true, onclick: () => loadPage() }, 'Show more');
  const live = h('p', { class: 'live muted', text: 'Connecting…' });
  main.replaceChildren(
    h('div', { class: 'page-head' }, h('h1', { id: 'inbox-h', tabindex: '-1', text: 'Inbox' }), live),
    count, list, empty, more);
  ctx.setTitle('Inbox');

  function card(a) {
    const meta = [h('span', { class: 'agent', text: a.agent_name || 'agent' })];
    if (a.session_id) meta.push(h('span', { class: 'session' }, 'session ', h('code', { text: a.session_id })));
    const tool = a.metadata && a.metadata.tool_name;
    if (tool) meta.push(h('span', { class: 'tool' }, h('code', { text: tool })));
    return h('li', { dataset: { id: a.approval_id } },
      h('article', { class: 'card' },
        h('h2', {}, h('a', { href: `/app/approvals/${a.approval_id}`, text: a.question })),
        h('p', { class: 'card-meta' }, meta),
        h('p', { class: 'card-time' },
          h('time', { datetime: a.created_at, text: `asked ${fmtAgo(a.created_at)}` }),
          ' · ',
          h('span', { class: 'countdown', dataset: { expires: a.expires_at } }, fmtLeft(a.expires_at) || ''))));
  }

  function refreshEmpty() {
    empty.hidden = items.size > 0;
  }

  function setCount(n, capped) {
    const text = capped ? `${n}+` : String(n);
    count.textContent = n === 0 ? 'No pending approvals.' : `${text} pending`;
    ctx.setPending(n, capped);
  }

  // Newest first: insert before the first item created earlier.
  function insert(a) {
    if (items.has(a.approval_id)) return;
    const t = new Date(a.created_at).getTime();
    const after = [...items.values()].find((x) => new Date(x.a.created_at).getTime() < t);
    if (!after && cursor) return; // older than everything loaded: it comes with a later page
    const el = card(a);
    if (after) list.insertBefore(el, after.el);
    else list.append(el);
    items.set(a.approval_id, { a, el });
    refreshEmpty();
  }

  function remove(id) {
    const it = items.get(id);
    if (!it) return;
    it.el.remove();
    items.delete(id);
    refreshEmpty();
  }

  async function loadPage() {
    const q = new URLSearchParams({ status: 'pending', limit: String(PAGE) });
    if (cursor) q.set('cursor', cursor);
    more.disabled = true;
    const r = await retrying(() => api('GET', `/v1/review/approvals?${q}`), ctx.banner, () => stopped);
    cursor = r.next_cursor || null;
    for (const a of r.items) {
      if (items.has(a.approval_id)) continue;
      const el = card(a);
      list.append(el);
      items.set(a.approval_id, { a, el });
    }
    more.hidden = !cursor;
    more.disabled = false;
    refreshEmpty();
  }

  const stopCountdown = startCountdowns(list);
  // The stream first, then the list: whatever changes after the list is
  // read still arrives as an event.
  const unsubscribe = subscribe((kind, data) => {
    if (kind === 'ready' || kind === 'count') setCount(data.pending_count, data.pending_more);
    if (kind === 'ready' || kind === 'open') live.textContent = 'Live';
    if (kind === 'down' || kind === 'reconnecting') live.textContent = 'Reconnecting…';
    if (kind === 'approval') {
      if (data.status === 'pending') {
        if (!items.has(data.approval_id)) {
          insert(data);
          if (items.has(data.approval_id)) announce(`New: ${data.question}`);
        }
      } else if (items.has(data.approval_id)) {
        remove(data.approval_id);
        announce(`No longer pending: ${data.question}`);
      }
    }
  });
  await loadPage();
  return () => {
    stopped = true;
    unsubscribe();
    stopCountdown();
  };
}
