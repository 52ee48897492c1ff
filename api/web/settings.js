// /app/settings (owners and admins): agents, API keys, members, the team's
// quota and its notification channels (notifications.js). Secrets (a new key, a new agent's webhook signing secret)
// are shown once, right after they are made; the server keeps only hashes
// or sealed values. A reviewer never sees this page (the API answers 404).

import { api, ApiError } from './api.js';
import { h, fmtDate, announce } from './util.js';
import * as notifications from './notifications.js';

function describe(e) {
  if (!(e instanceof ApiError)) return String(e && e.message ? e.message : e);
  const issue = e.body.issues && e.body.issues[0];
  if (issue) return `${issue.path.join('.') || 'request'}: ${issue.message}`;
  if (e.status === 0 || e.status === 503) return 'The service is unavailable right now; nothing changed. Try again in a moment.';
  return e.message;
}

function field(id, label, control, hint) {
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint`, text: hint }) : null;
  if (hintEl) control.setAttribute('aria-describedby', `${id}-hint`);
  return h('div', { class: 'field' }, h('label', { for: id, text: label }), control, hintEl);
}

// A box that shows a secret once, selectable, with a clear warning.
function secretBox(title, value) {
  const out = h('output', { class: 'secret-value', text: value });
  return h('div', { class: 'secret', role: 'alert' },
    h('p', {}, h('strong', { text: title }), ' Copy it now: it is shown only this once.'),
    out);
}

function table(caption, heads, rows) {
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', { text: caption }),
      h('thead', {}, h('tr', {}, heads.map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, rows)));
}

function section(id, title, ...body) {
  return h('section', { class: 'settings-section', 'aria-labelledby': id }, h('h2', { id, text: title }), ...body);
}

// An agent's three timeout controls (ids prefix-timeout, prefix-mode,
// prefix-instruction) set to a's defaults, and their labelled fields, for
// the forms that create and change agents.
function timeoutControls(prefix, a) {
  const secs = h('input', { id: `${prefix}-timeout`, type: 'number', min: 30, max: 86400, value: a.default_timeout_seconds, required: true });
  const mode = h('select', { id: `${prefix}-mode` },
    h('option', { value: 'expire_no_action', text: 'Expire without an action' }),
    h('option', { value: 'expire_with_predefined_instruction', text: 'Expire with an instruction' }));
  mode.value = a.default_timeout_mode;
  const instr = h('textarea', { id: `${prefix}-instruction`, rows: 2, maxlength: 1000 });
  instr.value = a.default_timeout_instruction || '';
  const fields = [
    field(`${prefix}-timeout`, 'Default timeout (seconds)', secs, '30 to 86400'),
    field(`${prefix}-mode`, 'When time runs out', mode),
    field(`${prefix}-instruction`, 'Instruction on timeout', instr, 'Only with “Expire with an instruction”.'),
  ];
  return { secs, mode, instr, fields };
}

export async function mount(main, ctx) {
  ctx.setTitle('Settings');
  if (ctx.session.user.role === 'reviewer') {
    throw new ApiError(404, { error: 'not_found', message: 'not found' });
  }
  const agentsBox = h('div');
  const keysBox = h('div');
  const membersBox = h('div');
  const quotaBox = h('div');
  const notifyBox = notifications.sectionBox();
  main.replaceChildren(
    h('h1', { tabindex: '-1', text: 'Settings' }),
    h('nav', { class: 'toc', 'aria-label': 'Settings sections' },
      h('ul', {}, [['s-agents', 'Agents'], ['s-keys', 'API keys'], ['s-members', 'Members'], ['s-quota', 'Quota'], ['s-notifications', 'Notifications']]
        .map(([id, t]) => h('li', {}, h('a', { href: `#${id}`, text: t }))))),
    section('s-agents', 'Agents', agentsBox),
    section('s-keys', 'API keys', keysBox),
    section('s-members', 'Members', membersBox),
    section('s-quota', 'Monthly quota', quotaBox),
    section('s-notifications', 'Notifications', notifyBox));

  let agents = [];

  // ---- agents --------------------------------------------------------------
  // The form that changes an agent's name, defaults and callback auth header
  // (PATCH /v1/settings/agents/{id}); only what differs is sent.
  function editForm(a) {
    const error = h('p', { class: 'error', role: 'alert' });
    const name = h('input', { id: 'edit-name', required: true, maxlength: 200, value: a.name });
    const { secs, mode, instr, fields } = timeoutControls('edit', a);
    const cb = h('select', { id: 'edit-cb' },
      h('option', { value: 'keep', text: a.callback_auth_header ? `Keep ${a.callback_auth_header}` : 'Keep none' }),
      h('option', { value: 'replace', text: 'Set a new header' }),
      a.callback_auth_header ? h('option', { value: 'remove', text: 'Remove the header' }) : null);
    const hdr = h('input', { id: 'edit-cb-header', maxlength: 256, autocomplete: 'off', value: a.callback_auth_header || '' });
    const val = h('input', { id: 'edit-cb-value', type: 'password', maxlength: 4096, autocomplete: 'new-password' });
    const replace = h('div', { hidden: true },
      field('edit-cb-header', 'New callback auth header name', hdr),
      field('edit-cb-value', 'New callback auth header value', val, 'Stored sealed; never shown again.'));
    cb.addEventListener('change', () => { replace.hidden = cb.value !== 'replace'; });
    const headingId = 'agent-edit-h';
    return h('form', {
      class: 'stack card-form',
      'aria-labelledby': headingId,
      onsubmit: async (ev) => {
        ev.preventDefault();
        error.textContent = '';
        const body = {};
        // Compared trimmed, as the form sends it: a name stored with spaces
        // around it is left as it is unless it was edited.
        if (name.value.trim() !== a.name.trim()) body.name = name.value.trim();
        if (Number(secs.value) !== a.default_timeout_seconds) body.default_timeout_seconds = Number(secs.value);
        if (mode.value !== a.default_timeout_mode) body.default_timeout_mode = mode.value;
        if (mode.value === 'expire_with_predefined_instruction' && instr.value !== (a.default_timeout_instruction || '')) {
          body.default_timeout_instruction = instr.value;
        }
        if (cb.value === 'replace') {
          body.callback_auth_header = hdr.value.trim();
          body.callback_auth_value = val.value;
        } else if (cb.value === 'remove') {
          body.callback_auth_header = null;
          body.callback_auth_value = null;
        }
        if (Object.keys(body).length === 0) {
          error.textContent = 'Nothing changed.';
          return;
        }
        try {
          const changed = await api('PATCH', `/v1/settings/agents/${a.agent_id}`, body);
          await drawAgents();
          announce(`Agent ${changed.name} saved`);
        } catch (e) {
          error.textContent = describe(e);
        }
      },
    },
    h('h3', { id: headingId, tabindex: '-1', text: `Edit ${a.name}` }),
    field('edit-name', 'Name', name, 'Shown on every approval of this agent, those already made included.'),
    h('p', { class: 'hint', text: 'The defaults apply to approvals created from now on; approvals already waiting keep their deadline.' }),
    fields,
    field('edit-cb', 'Callback auth header', cb),
    replace,
    error,
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, 'Save'),
      h('button', { type: 'button', class: 'secondary', onclick: () => drawAgents() }, 'Cancel')));
  }

  async function drawAgents(secret, editing) {
    const r = await api('GET', '/v1/settings/agents');
    agents = r.items;
    const rows = agents.map((a) => h('tr', {},
      h('th', { scope: 'row', text: a.name }),
      h('td', {}, h('code', { text: a.agent_id })),
      h('td', { text: `${a.default_timeout_seconds} s` }),
      h('td', { text: a.default_timeout_mode === 'expire_with_predefined_instruction' ? `instruction: ${a.default_timeout_instruction}` : 'no action' }),
      h('td', { text: a.callback_auth_header || '—' }),
      h('td', { class: 'actions' }, h('button', {
        type: 'button',
        class: 'secondary',
        'aria-label': `Edit ${a.name}`,
        onclick: async () => {
          await drawAgents(undefined, a.agent_id);
          document.getElementById('agent-edit-h').focus();
        },
      }, 'Edit'))));
    const target = editing && agents.find((a) => a.agent_id === editing);
    const error = h('p', { class: 'error', role: 'alert' });
    const name = h('input', { id: 'agent-name', required: true, maxlength: 200 });
    const { secs, mode, instr, fields } =
      timeoutControls('agent', { default_timeout_seconds: 3600, default_timeout_mode: 'expire_no_action' });
    const hdr = h('input', { id: 'agent-cb-header', maxlength: 256, autocomplete: 'off' });
    const val = h('input', { id: 'agent-cb-value', type: 'password', maxlength: 4096, autocomplete: 'new-password' });
    const form = h('form', {
      class: 'stack card-form',
      'aria-labelledby': 'agent-new-h',
      onsubmit: async (ev) => {
        ev.preventDefault();
        error.textContent = '';
        const body = { name: name.value.trim(), default_timeout_seconds: Number(secs.value), default_timeout_mode: mode.value };
        if (mode.value === 'expire_with_predefined_instruction') body.default_timeout_instruction = instr.value;
        if (hdr.value.trim() || val.value) {
          body.callback_auth_header = hdr.value.trim();
          body.callback_auth_value = val.value;
        }
        try {
          const made = await api('POST', '/v1/settings/agents', body);
          await drawAgents(secretBox(`Webhook signing secret of ${made.name}:`, made.webhook_secret));
          announce(`Agent ${made.name} created`);
        } catch (e) {
          error.textContent = describe(e);
        }
      },
    },
    h('h3', { id: 'agent-new-h', text: 'New agent' }),
    field('agent-name', 'Name', name),
    fields,
    field('agent-cb-header', 'Callback auth header name', hdr, 'Optional; sent with every callback, for example Authorization.'),
    field('agent-cb-value', 'Callback auth header value', val, 'Stored sealed; never shown again.'),
    error,
    h('button', { type: 'submit', class: 'primary' }, 'Create agent'));
    agentsBox.replaceChildren(secret || '',
      agents.length ? table('Agents of this team', ['Name', 'Agent id', 'Timeout', 'On timeout', 'Callback header', 'Actions'], rows)
        : h('p', { text: 'No agents yet.' }),
      target ? editForm(target) : '',
      form);
  }

  // ---- keys ----------------------------------------------------------------
  async function drawKeys(secret) {
    const r = await api('GET', '/v1/settings/keys');
    const error = h('p', { class: 'error', role: 'alert' });
    const agentName = (id) => (agents.find((a) => a.agent_id === id) || {}).name || id;
    const rows = r.items.map((k) => {
      const actions = k.revoked_at ? h('td', { text: `revoked ${fmtDate(k.revoked_at)}` }) : h('td', { class: 'actions' },
        h('button', {
          type: 'button',
          class: 'secondary',
          'aria-label': `Regenerate key ${k.prefix}`,
          onclick: async () => {
            if (!window.confirm(`Regenerate ${k.prefix}? The old key stops working at once.`)) return;
            try {
              const made = await api('POST', `/v1/settings/keys/${k.key_id}/regenerate`);
              await drawKeys(secretBox(`New key replacing ${k.prefix}:`, made.api_key));
              announce('Key regenerated');
            } catch (e) {
              error.textContent = describe(e);
            }
          },
        }, 'Regenerate'),
        h('button', {
          type: 'button',
          class: 'danger',
          'aria-label': `Revoke key ${k.prefix}`,
          onclick: async () => {
            if (!window.confirm(`Revoke ${k.prefix}? It stops working at once.`)) return;
            try {
              await api('POST', `/v1/settings/keys/${k.key_id}/revoke`);
              await drawKeys();
              announce('Key revoked');
            } catch (e) {
              error.textContent = describe(e);
            }
          },
        }, 'Revoke'));
      return h('tr', {},
        h('th', { scope: 'row' }, h('code', { text: k.prefix })),
        h('td', { text: k.name || '—' }),
        h('td', { text: k.agent_id ? agentName(k.agent_id) : 'whole team' }),
        h('td', { text: k.test_mode ? 'yes' : 'no' }),
        h('td', { text: fmtDate(k.created_at) }),
        actions);
    });
    const name = h('input', { id: 'key-name', maxlength: 200 });
    const scope = h('select', { id: 'key-agent' }, h('option', { value: '', text: 'Whole team' }),
      agents.map((a) => h('option', { value: a.agent_id, text: a.name })));
    const test = h('input', { id: 'key-test', type: 'checkbox' });
    const form = h('form', {
      class: 'stack card-form',
      'aria-labelledby': 'key-new-h',
      onsubmit: async (ev) => {
        ev.preventDefault();
        error.textContent = '';
        const body = { test_mode: test.checked };
        if (name.value.trim()) body.name = name.value.trim();
        if (scope.value) body.agent_id = scope.value;
        try {
          const made = await api('POST', '/v1/settings/keys', body);
          await drawKeys(secretBox('New API key:', made.api_key));
          announce('Key created');
        } catch (e) {
          error.textContent = describe(e);
        }
      },
    },
    h('h3', { id: 'key-new-h', text: 'New API key' }),
    field('key-name', 'Name (optional)', name),
    field('key-agent', 'Acts for', scope),
    h('div', { class: 'check' }, test, h('label', { for: 'key-test', text: 'Test mode (may simulate decisions)' })),
    error,
    h('button', { type: 'submit', class: 'primary' }, 'Create key'));
    keysBox.replaceChildren(secret || '',
      r.items.length ? table('API keys of this team', ['Prefix', 'Name', 'Acts for', 'Test mode', 'Created', 'Actions'], rows)
        : h('p', { text: 'No keys yet.' }),
      form);
  }

  // ---- members -------------------------------------------------------------
  async function drawMembers() {
    const r = await api('GET', '/v1/settings/members');
    const error = h('p', { class: 'error', role: 'alert' });
    const me = ctx.session.user.user_id;
    const rows = r.items.map((m) => {
      const role = h('select', {
        'aria-label': `Role of ${m.name}`,
        onchange: async () => {
          try {
            await api('PATCH', `/v1/settings/members/${m.user_id}`, { role: role.value });
            announce(`${m.name} is now ${role.value}`);
            await drawMembers();
          } catch (e) {
            error.textContent = describe(e);
            role.value = m.role;
          }
        },
      }, ['owner', 'admin', 'reviewer'].map((x) => h('option', { value: x, text: x })));
      role.value = m.role;
      return h('tr', {},
        h('th', { scope: 'row', text: m.name + (m.user_id === me ? ' (you)' : '') }),
        h('td', { text: m.email }),
        h('td', {}, role),
        h('td', { class: 'actions' }, h('button', {
          type: 'button',
          class: 'danger',
          'aria-label': `Remove ${m.name}`,
          onclick: async () => {
            if (!window.confirm(`Remove ${m.name} from the team? Their sessions and tokens end at once.`)) return;
            try {
              await api('DELETE', `/v1/settings/members/${m.user_id}`);
              announce(`${m.name} removed`);
              if (m.user_id === me) return ctx.signedOut();
              await drawMembers();
            } catch (e) {
              error.textContent = describe(e);
            }
          },
        }, 'Remove')));
    });
    const email = h('input', { id: 'member-email', type: 'email', required: true, autocomplete: 'off' });
    const name = h('input', { id: 'member-name', maxlength: 200 });
    const role = h('select', { id: 'member-role' }, ['reviewer', 'admin', 'owner'].map((x) => h('option', { value: x, text: x })));
    const pw = h('input', { id: 'member-password', type: 'password', required: true, minlength: 8, autocomplete: 'new-password' });
    const form = h('form', {
      class: 'stack card-form',
      'aria-labelledby': 'member-new-h',
      onsubmit: async (ev) => {
        ev.preventDefault();
        error.textContent = '';
        const body = { email: email.value.trim(), role: role.value, password: pw.value };
        if (name.value.trim()) body.name = name.value.trim();
        try {
          const made = await api('POST', '/v1/settings/members', body);
          announce(`${made.name} added`);
          await drawMembers();
        } catch (e) {
          error.textContent = describe(e);
        }
      },
    },
    h('h3', { id: 'member-new-h', text: 'Add a member' }),
    field('member-email', 'Email', email),
    field('member-name', 'Name (optional)', name),
    field('member-role', 'Role', role, 'Reviewers decide; admins and owners also manage settings.'),
    field('member-password', 'First password', pw, 'At least 8 characters; they can change it after signing in.'),
    error,
    h('button', { type: 'submit', class: 'primary' }, 'Add member'));
    membersBox.replaceChildren(table('Members of this team', ['Name', 'Email', 'Role', 'Actions'], rows), form);
  }

  // ---- quota ---------------------------------------------------------------
  async function drawQuota() {
    const q = await api('GET', '/v1/settings/quota');
    const error = h('p', { class: 'error', role: 'alert' });
    const done = h('p', { class: 'outcome', role: 'status' });
    const unlimited = h('input', { id: 'quota-unlimited', type: 'checkbox', checked: q.approval_quota === null });
    const n = h('input', { id: 'quota-n', type: 'number', min: 0, max: 2147483647, value: q.approval_quota ?? '' });
    const form = h('form', {
      class: 'stack card-form',
      onsubmit: async (ev) => {
        ev.preventDefault();
        error.textContent = '';
        done.textContent = '';
        try {
          const body = { approval_quota: unlimited.checked ? null : Number(n.value) };
          const r = await api('PUT', '/v1/settings/quota', body);
          done.textContent = r.approval_quota === null ? 'Saved: no monthly limit.' : `Saved: ${r.approval_quota} approvals a month.`;
        } catch (e) {
          error.textContent = describe(e);
        }
      },
    },
    h('p', { text: `Approvals created this month: ${q.used_this_month}.` }),
    h('div', { class: 'check' }, unlimited, h('label', { for: 'quota-unlimited', text: 'No monthly limit' })),
    field('quota-n', 'Approvals per month', n, 'Creates over the limit answer 403 USAGE_APPROVAL_LIMIT.'),
    error,
    h('button', { type: 'submit', class: 'primary' }, 'Save quota'),
    done);
    quotaBox.replaceChildren(form);
  }

  await drawAgents();
  await Promise.all([drawKeys(), drawMembers(), drawQuota()]);
  await notifications.draw(notifyBox, agents, (await api('GET', '/v1/settings/members')).items);
  return () => {};
}
