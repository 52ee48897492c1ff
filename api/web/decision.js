// The decision view: one approval, its context, who asked, a live
// countdown, and the options as buttons (plus a free-text instruction when
// the approval allows one). It knows nothing of how a decision is sent:
// the caller passes submit(body) — {option_index} or {custom_instruction}
// — and reload(), so the same view serves the signed-in app (the reviewer
// API with the session cookie) and pages opened from a signed decision
// link. submit must resolve to the result or throw an ApiError-like object
// with status and code; a 409 already_resolved makes the view reload and
// say who decided first.
//
//   const view = renderDecision(container, approval, {submit, reload});
//   view.update(approval);  // a newer state (from the live stream)
//   view.destroy();

import { h, fmtDate, fmtLeft, startCountdowns, statusPill, announce } from './util.js';

const META_LABELS = { tool_name: 'Tool', command: 'Command', event: 'Event', project: 'Project' };

function metaList(a) {
  const rows = [];
  const add = (label, value, code) => {
    if (value === null || value === undefined || value === '') return;
    rows.push(h('dt', { text: label }), h('dd', {}, code ? h('code', { text: String(value) }) : String(value)));
  };
  add('Agent', a.agent_name);
  add('Session', a.session_id, true);
  add('Asked', fmtDate(a.created_at));
  add('Expires', fmtDate(a.expires_at));
  const md = a.metadata && typeof a.metadata === 'object' ? a.metadata : {};
  for (const [k, v] of Object.entries(md)) {
    const value = typeof v === 'string' ? v : JSON.stringify(v);
    add(META_LABELS[k] || k, value, k === 'command' || typeof v !== 'string');
  }
  return h('dl', { class: 'meta' }, rows);
}

// The context as the server rendered it (cmark, safe mode: no raw HTML,
// only http, https, mailto and relative links). The page's CSP forbids
// inline script as a second line of defence.
function contextBlock(a) {
  const body = h('div', { class: 'md' });
  if (typeof a.context_html === 'string') {
    body.innerHTML = a.context_html;
    for (const link of body.querySelectorAll('a[href]')) {
      if (!link.getAttribute('href')) link.removeAttribute('href');
      else link.setAttribute('rel', 'noopener noreferrer nofollow');
    }
  } else {
    body.append(h('p', { class: 'pre', text: a.context_markdown || '' }));
  }
  return h('section', { class: 'context', 'aria-labelledby': 'ctx-h' }, h('h2', { id: 'ctx-h', text: 'Context' }), body);
}

// What happened, for an approval that is no longer pending.
export function outcomeText(a) {
  const who = a.resolved_by && a.resolved_by.name ? ` by ${a.resolved_by.name}` : '';
  const when = a.resolved_at ? ` on ${fmtDate(a.resolved_at)}` : '';
  const opt = (a.options || []).find((o) => o.index === a.selected_option_index);
  switch (a.status) {
    case 'selected_option':
      return `Decided${who}${when}: “${opt ? opt.label : '?'}”.`;
    case 'custom_instruction':
      return `Instruction given${who}${when}: “${a.custom_instruction || ''}”.`;
    case 'expired':
      return opt ? `Expired${when}; the default “${opt.label}” was used.` : `Expired${when} without a decision.`;
    case 'cancelled':
      return `Cancelled by the agent${when}.`;
    default:
      return '';
  }
}

export function renderDecision(root, approval, { submit, reload }) {
  let a = approval;
  let busy = false;
  let stopCountdown = () => {};
  // Said to screen readers through the page's one live region (announce).
  const outcome = h('p', { class: 'outcome' });
  const error = h('p', { class: 'error', role: 'alert' });

  function setDisabled(disabled) {
    for (const el of root.querySelectorAll('.decide button, .decide textarea')) el.disabled = disabled;
  }

  async function decide(body, label) {
    if (busy || a.status !== 'pending') return;
    busy = true;
    error.textContent = '';
    setDisabled(true);
    outcome.textContent = `Sending “${label}”…`;
    try {
      await submit(body);
      const fresh = await reload().catch(() => null);
      if (fresh) draw(fresh);
      else outcome.textContent = `Sent: “${label}”.`;
      announce(outcome.textContent);
    } catch (e) {
      if (e && e.status === 409) {
        const fresh = await reload().catch(() => null);
        if (fresh) draw(fresh);
        outcome.textContent = `Someone else got there first. ${outcomeText(fresh || a)}`;
        announce(outcome.textContent);
      } else {
        outcome.textContent = '';
        error.textContent =
          e && (e.status === 0 || e.status === 503)
            ? 'The service is unavailable right now; nothing was decided. Try again in a moment.'
            : (e && e.message) || 'The decision could not be sent.';
        setDisabled(a.status !== 'pending');
      }
    } finally {
      busy = false;
    }
  }

  function decideForm() {
    const buttons = (a.options || []).map((o) =>
      h('button', {
        type: 'button',
        class: o.index === 0 ? 'primary' : '',
        onclick: () => decide({ option_index: o.index }, o.label),
      }, o.label),
    );
    const parts = [
      h('fieldset', { class: 'options' }, h('legend', { text: 'Your decision' }), h('div', { class: 'buttons' }, buttons)),
    ];
    if (a.allow_custom_instruction) {
      const ta = h('textarea', { id: 'custom-instruction', name: 'custom_instruction', rows: 3, maxlength: 2500 });
      parts.push(
        h('div', { class: 'custom' },
          h('label', { for: 'custom-instruction', text: 'Or tell the agent what to do instead' }),
          ta,
          h('button', {
            type: 'submit',
          }, 'Send instruction')),
      );
      const form = h('form', {
        class: 'decide',
        onsubmit: (ev) => {
          ev.preventDefault();
          const text = ta.value.trim();
          if (!text) {
            error.textContent = 'Write an instruction first, or choose one of the options.';
            ta.focus();
            return;
          }
          decide({ custom_instruction: text }, text);
        },
      }, parts);
      return form;
    }
    return h('form', { class: 'decide', onsubmit: (ev) => ev.preventDefault() }, parts);
  }

  function draw(next) {
    a = next;
    stopCountdown();
    const pending = a.status === 'pending';
    const head = h('p', { class: 'state' }, statusPill(a.status),
      pending ? h('span', { class: 'countdown', dataset: { expires: a.expires_at } }, fmtLeft(a.expires_at) || '') : null);
    root.replaceChildren(
      h('article', { class: 'decision', 'aria-labelledby': 'question' },
        head,
        h('h1', { id: 'question', tabindex: '-1', text: a.question }),
        metaList(a),
        contextBlock(a),
        pending ? decideForm() : null,
        outcome,
        error),
    );
    if (!pending) outcome.textContent = outcomeText(a);
    stopCountdown = pending
      ? startCountdowns(root, () => {
          setDisabled(true);
          outcome.textContent = 'Time is up: the approval is expiring.';
          reload().then((fresh) => fresh && fresh.status !== 'pending' && draw(fresh)).catch(() => {});
        })
      : () => {};
  }

  draw(approval);
  return {
    update(next) {
      if (!next || next.approval_id !== a.approval_id) return;
      const was = a.status;
      draw(Object.assign({}, next, { context_html: next.context_html ?? a.context_html }));
      if (was === 'pending' && next.status !== 'pending') announce(outcomeText(next));
    },
    get approval() {
      return a;
    },
    destroy() {
      stopCountdown();
    },
  };
}
