// /app/approvals/<id>: the decision view for a signed-in reviewer, the
// approval's audit trail, and live updates when it changes elsewhere.

import { api, retrying, ApiError } from './api.js';
import { renderDecision } from './decision.js';
import { subscribe } from './stream.js';
import { h, fmtDate } from './util.js';

const KIND_TEXT = {
  created: 'Asked',
  resolved: 'Decided',
  cancelled: 'Cancelled',
  expired: 'Expired',
  callback_delivered: 'Result delivered to the callback',
  callback_failed: 'Callback delivery failed',
};

function auditTable(events) {
  const rows = events.map((e) => {
    const d = e.data || {};
    let what = KIND_TEXT[e.kind] || e.kind.replace(/_/g, ' ');
    if (d.selected_option_index !== undefined) what += ` (option ${d.selected_option_index + 1})`;
    if (d.has_custom_instruction) what += ' (instruction)';
    if (d.is_timeout_default) what += ' (default on timeout)';
    const actor = e.actor ? (e.actor.name || `${e.actor.type}${e.actor.id ? ' ' + e.actor.id.slice(0, 8) : ''}`) : '';
    return h('tr', {},
      h('td', {}, h('time', { datetime: e.created_at, text: fmtDate(e.created_at) })),
      h('td', { text: what }),
      h('td', { text: actor }),
      h('td', { text: d.surface || '' }));
  });
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', { class: 'visually-hidden', text: 'Audit trail, oldest first' }),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'When' }), h('th', { scope: 'col', text: 'What' }),
        h('th', { scope: 'col', text: 'Who' }), h('th', { scope: 'col', text: 'From' }))),
      h('tbody', {}, rows)));
}

export async function mount(main, ctx, params) {
  const id = params[0];
  const path = `/v1/review/approvals/${id}`;
  let stopped = false;
  const view = h('div');
  const audit = h('section', { class: 'audit', 'aria-labelledby': 'audit-h' },
    h('h2', { id: 'audit-h', text: 'Audit trail' }), h('p', { class: 'muted', text: 'Loading…' }));
  main.replaceChildren(h('p', {}, h('a', { href: '/app', text: '← Inbox' })), view, audit);

  let a;
  try {
    a = await retrying(() => api('GET', path), ctx.banner, () => stopped);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      ctx.setTitle('Not found');
      view.replaceChildren(h('h1', { tabindex: '-1', text: 'No such approval' }),
        h('p', { text: 'It does not exist, or it belongs to another team.' }));
      audit.remove();
      return () => {};
    }
    throw e;
  }
  ctx.setTitle(a.question);
  const reload = () => api('GET', path);
  const decision = renderDecision(view, a, {
    submit: (body) => api('POST', `${path}/resolve`, body),
    reload,
  });
  const loadAudit = async () => {
    try {
      const r = await api('GET', `${path}/audit`);
      audit.replaceChildren(h('h2', { id: 'audit-h', text: 'Audit trail' }), auditTable(r.events));
    } catch (e) {
      audit.replaceChildren(h('h2', { id: 'audit-h', text: 'Audit trail' }),
        h('p', { class: 'muted', text: 'The audit trail could not be loaded.' }));
    }
  };
  loadAudit();
  // Any change to this approval (decided here or elsewhere, expired,
  // cancelled) arrives on the stream after its audit event committed.
  const unsubscribe = subscribe((kind, data) => {
    if (kind !== 'approval' || data.approval_id !== id) return;
    if (data.status !== decision.approval.status) decision.update(data);
    loadAudit();
  });
  return () => {
    stopped = true;
    unsubscribe();
    decision.destroy();
  };
}
