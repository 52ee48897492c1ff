// /app/history: every approval of the team with filters (status, agent,
// session, time range, text in the question), newest first, keyset paged.
// The filters live in the address, so a filtered view can be shared.

import { api, retrying } from './api.js';
import { h, fmtDate, statusPill } from './util.js';
import { outcomeText } from './decision.js';

const PAGE = 50;

function toIso(local) {
  if (!local) return null;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

function toLocal(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export async function mount(main, ctx) {
  let stopped = false;
  ctx.setTitle('History');
  const params = new URLSearchParams(location.search);
  const input = (id, label, attrs) => {
    const el = h('input', Object.assign({ id, name: id }, attrs));
    return [el, h('div', { class: 'field' }, h('label', { for: id, text: label }), el)];
  };
  const status = h('select', { id: 'f-status', name: 'status' },
    ['all', 'pending', 'selected_option', 'custom_instruction', 'expired', 'cancelled'].map((s) =>
      h('option', { value: s, text: s === 'all' ? 'Any status' : s.replace(/_/g, ' ') })));
  status.value = params.get('status') || 'all';
  const agent = h('select', { id: 'f-agent', name: 'agent_id' }, h('option', { value: '', text: 'Any agent' }));
  const [session, sessionField] = input('f-session', 'Session', { type: 'text', value: params.get('session_id') || '' });
  const [text, textField] = input('f-q', 'Text in the question', { type: 'search', value: params.get('q') || '' });
  const [after, afterField] = input('f-after', 'Asked after', { type: 'datetime-local', value: toLocal(params.get('created_after')) });
  const [before, beforeField] = input('f-before', 'Asked before', { type: 'datetime-local', value: toLocal(params.get('created_before')) });
  const error = h('p', { class: 'error', role: 'alert' });
  const list = h('ul', { class: 'rows', 'aria-labelledby': 'results-h' });
  const summary = h('p', { class: 'muted', role: 'status' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true, onclick: () => load(false) }, 'Show more');
  let cursor = null;

  function query() {
    const q = new URLSearchParams();
    q.set('status', status.value);
    if (agent.value) q.set('agent_id', agent.value);
    if (session.value.trim()) q.set('session_id', session.value.trim());
    if (text.value.trim()) q.set('q', text.value.trim());
    const a = toIso(after.value), b = toIso(before.value);
    if (a) q.set('created_after', a);
    if (b) q.set('created_before', b);
    return q;
  }

  function row(a) {
    return h('li', {},
      h('article', { class: 'row' },
        h('p', { class: 'row-head' }, statusPill(a.status), h('time', { datetime: a.created_at, text: fmtDate(a.created_at) })),
        h('h3', {}, h('a', { href: `/app/approvals/${a.approval_id}`, text: a.question })),
        h('p', { class: 'card-meta' },
          h('span', { text: a.agent_name || '' }),
          a.session_id ? h('span', {}, 'session ', h('code', { text: a.session_id })) : null),
        a.status === 'pending' ? null : h('p', { class: 'muted', text: outcomeText(a) })));
  }

  async function load(first) {
    const q = query();
    q.set('limit', String(PAGE));
    if (!first && cursor) q.set('cursor', cursor);
    error.textContent = '';
    more.disabled = true;
    try {
      const r = await retrying(() => api('GET', `/v1/review/approvals?${q}`), ctx.banner, () => stopped);
      if (first) list.replaceChildren();
      for (const a of r.items) list.append(row(a));
      cursor = r.next_cursor || null;
      more.hidden = !cursor;
      summary.textContent = list.children.length === 0 ? 'No approvals match.'
        : `${list.children.length}${cursor ? '+' : ''} approval${list.children.length === 1 ? '' : 's'}`;
    } catch (e) {
      if (e.status === 401) throw e;
      const issue = e.body && e.body.issues && e.body.issues[0];
      error.textContent = issue ? `${issue.path.join('.')}: ${issue.message}` : e.message;
    }
    more.disabled = false;
  }

  const form = h('form', {
    class: 'filters',
    'aria-label': 'Filters',
    onsubmit: (ev) => {
      ev.preventDefault();
      const q = query();
      history.replaceState(null, '', `/app/history?${q}`);
      load(true);
    },
  },
  h('div', { class: 'field' }, h('label', { for: 'f-status', text: 'Status' }), status),
  h('div', { class: 'field' }, h('label', { for: 'f-agent', text: 'Agent' }), agent),
  sessionField, textField, afterField, beforeField,
  h('div', { class: 'field actions' }, h('button', { type: 'submit', class: 'primary' }, 'Apply filters')));

  main.replaceChildren(h('h1', { tabindex: '-1', text: 'History' }), form, error,
    h('h2', { id: 'results-h', class: 'visually-hidden', text: 'Results' }), summary, list, more);

  try {
    const agents = await api('GET', '/v1/review/agents');
    for (const a of agents.items) agent.append(h('option', { value: a.agent_id, text: a.name }));
    agent.value = params.get('agent_id') || '';
  } catch (e) {
    if (e.status === 401) throw e;
  }
  await load(true);
  return () => {
    stopped = true;
  };
}
