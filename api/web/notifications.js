// The "Notifications" section of /app/settings (owners and admins): the
// team's channels — list with each one's last success and last error, add,
// test, remove — and each agent's routing, reminder and escalation. The
// rules live on the server (/v1/settings/channels, /v1/settings/agents/
// <id>/notifications): a channel URL that breaks the outbound rules, a
// member nobody can reach, come back as issues shown next to the form.
// Secrets typed here are sent once and stored sealed; a new webhook
// channel's signing secret is shown once.

import { api, ApiError } from './api.js';
import { h, fmtDate, announce } from './util.js';

const KINDS = {
  webpush: { label: 'Web Push (members\u2019 devices)', fields: [] },
  ntfy: {
    label: 'ntfy',
    fields: [
      ['url', 'Server URL', 'url', 'https://ntfy.sh or your own server'],
      ['topic', 'Topic', 'text', 'Letters, digits, _ and -'],
      ['token', 'Access token (optional)', 'password', 'Stored sealed'],
      ['priority', 'Priority (1\u20135)', 'number', 'Default 4'],
      ['tags', 'Tags (optional)', 'text', 'Comma-separated ntfy tags'],
    ],
  },
  slack: {
    label: 'Slack',
    fields: [
      ['webhook_url', 'Incoming webhook URL', 'password', 'Stored sealed: anyone holding it can post'],
      ['signing_secret', 'Signing secret (optional)', 'password', 'Turns the buttons into interactive ones'],
    ],
  },
  email: {
    label: 'Email (SMTP)',
    fields: [
      ['host', 'SMTP host', 'text', ''],
      ['port', 'Port', 'number', 'Default 587'],
      ['tls', 'TLS', 'select:starttls,tls,none', 'STARTTLS is required, never optional'],
      ['username', 'Username (optional)', 'text', ''],
      ['password', 'Password (optional)', 'password', 'Stored sealed'],
      ['from', 'From address', 'email', ''],
      ['to', 'To (optional)', 'text', 'Comma-separated; default: every member'],
    ],
  },
  webhook: { label: 'Team webhook', fields: [['url', 'URL', 'url', 'Signed JSON events (Standard Webhooks)']] },
};

function describe(e) {
  if (!(e instanceof ApiError)) return String(e && e.message ? e.message : e);
  const issue = e.body.issues && e.body.issues[0];
  if (issue) return issue.message;
  if (e.status === 0 || e.status === 503) return 'The service is unavailable right now; nothing changed. Try again in a moment.';
  return e.message;
}

function summary(c) {
  const k = c.config || {};
  if (c.kind === 'ntfy') return `${k.url} \u00b7 ${k.topic}`;
  if (c.kind === 'email') return `${k.host}:${k.port} (${k.tls}) from ${k.from}`;
  if (c.kind === 'webhook') return k.url;
  if (c.kind === 'slack') return k.interactive ? 'interactive buttons' : 'link buttons';
  return k.users && k.users.length ? `${k.users.length} member(s)` : 'every member\u2019s devices';
}

function status(c) {
  if (c.last_error && (!c.last_success_at || c.last_error_at > c.last_success_at)) {
    return h('span', { class: 'error-text' }, `Failed ${fmtDate(c.last_error_at)}: ${c.last_error}`);
  }
  if (c.last_success_at) return `Sent ${fmtDate(c.last_success_at)}`;
  return 'Nothing sent yet';
}

function minutes(s) {
  return s ? String(Math.round(s / 60)) : '';
}

export function sectionBox() {
  return h('div', { id: 'notifications-box' });
}

// Draws the section into box; agents and members come from the settings page.
export async function draw(box, agents, members) {
  const r = await api('GET', '/v1/settings/channels');
  const channels = r.items;
  const error = h('p', { class: 'error', role: 'alert' });
  const secret = h('div');

  const rows = channels.map((c) => h('tr', { dataset: { channel: c.channel_id } },
    h('th', { scope: 'row', text: c.name }),
    h('td', { text: (KINDS[c.kind] || {}).label || c.kind }),
    h('td', { text: summary(c) }),
    h('td', { class: 'channel-status' }, status(c)),
    h('td', { class: 'actions' },
      h('button', {
        type: 'button',
        class: 'secondary',
        'aria-label': `Send a test message through ${c.name}`,
        onclick: async () => {
          error.textContent = '';
          try {
            await api('POST', `/v1/settings/channels/${c.channel_id}/test`);
            announce(`Test message for ${c.name} queued`);
            setTimeout(() => draw(box, agents, members).catch(() => {}), 1500);
          } catch (e) {
            error.textContent = describe(e);
          }
        },
      }, 'Test'),
      h('button', {
        type: 'button',
        class: 'danger',
        'aria-label': `Remove channel ${c.name}`,
        onclick: async () => {
          if (!window.confirm(`Remove ${c.name}? Nothing more is sent through it.`)) return;
          try {
            await api('DELETE', `/v1/settings/channels/${c.channel_id}`);
            announce(`Channel ${c.name} removed`);
            await draw(box, agents, members);
          } catch (e) {
            error.textContent = describe(e);
          }
        },
      }, 'Remove'))));

  // ---- add a channel ----------------------------------------------------
  const kind = h('select', { id: 'channel-kind' },
    Object.entries(KINDS).map(([k, v]) => h('option', { value: k, text: v.label })));
  const name = h('input', { id: 'channel-name', required: true, maxlength: 200 });
  const fieldsBox = h('div', { class: 'stack' });
  let inputs = {};
  function drawFields() {
    inputs = {};
    fieldsBox.replaceChildren(...KINDS[kind.value].fields.map(([key, label, type, hint]) => {
      const id = `channel-${key}`;
      let control;
      if (type.startsWith('select:')) {
        control = h('select', { id }, type.slice(7).split(',').map((o) => h('option', { value: o, text: o })));
      } else {
        control = h('input', { id, type, autocomplete: type === 'password' ? 'new-password' : 'off' });
      }
      inputs[key] = control;
      const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint`, text: hint }) : null;
      if (hintEl) control.setAttribute('aria-describedby', `${id}-hint`);
      return h('div', { class: 'field' }, h('label', { for: id, text: label }), control, hintEl);
    }));
  }
  kind.addEventListener('change', drawFields);
  drawFields();
  const form = h('form', {
    class: 'stack card-form',
    'aria-labelledby': 'channel-new-h',
    onsubmit: async (ev) => {
      ev.preventDefault();
      error.textContent = '';
      const settings = {};
      for (const [key, el] of Object.entries(inputs)) if (el.value.trim() !== '') settings[key] = el.value.trim();
      try {
        const made = await api('POST', '/v1/settings/channels', { kind: kind.value, name: name.value.trim(), settings });
        announce(`Channel ${made.name} added`);
        await draw(box, agents, members);
        if (made.signing_secret) {
          box.prepend(h('div', { class: 'secret', role: 'alert' },
            h('p', {}, h('strong', { text: `Signing secret of ${made.name}:` }), ' Copy it now: it is shown only this once.'),
            h('output', { class: 'secret-value', text: made.signing_secret })));
        }
      } catch (e) {
        error.textContent = describe(e);
      }
    },
  },
  h('h3', { id: 'channel-new-h', text: 'New channel' }),
  h('div', { class: 'field' }, h('label', { for: 'channel-kind', text: 'Kind' }), kind),
  h('div', { class: 'field' }, h('label', { for: 'channel-name', text: 'Channel name' }), name),
  fieldsBox,
  h('button', { type: 'submit', class: 'primary' }, 'Add channel'));

  // ---- per agent: routing, reminder, escalation ------------------------
  const routing = h('div', { class: 'stack' });
  for (const a of agents) routing.append(await agentForm(a, channels, members));

  box.replaceChildren(secret, error,
    channels.length
      ? h('div', { class: 'table-wrap' }, h('table', {},
        h('caption', { text: 'Channels of this team' }),
        h('thead', {}, h('tr', {}, ['Name', 'Kind', 'Sends to', 'Status', 'Actions'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, rows)))
      : h('p', { text: 'No channels yet: approvals are seen only in this app.' }),
    form,
    h('h3', { text: 'Where each agent\u2019s approvals go' }),
    agents.length ? routing : h('p', { text: 'No agents yet.' }));
}

function checkboxes(name, items, checked, label) {
  return h('fieldset', { class: 'checks' }, h('legend', { text: label }),
    items.length ? items.map(([id, text]) => {
      const cid = `${name}-${id}`;
      return h('div', { class: 'check' },
        h('input', { type: 'checkbox', id: cid, value: id, checked: checked.includes(id), dataset: { group: name } }),
        h('label', { for: cid, text }));
    }) : h('p', { class: 'hint', text: 'None yet.' }));
}

async function agentForm(a, channels, members) {
  const s = await api('GET', `/v1/settings/agents/${a.agent_id}/notifications`);
  const id = a.agent_id.slice(0, 8);
  const error = h('p', { class: 'error', role: 'alert' });
  const chItems = channels.map((c) => [c.channel_id, c.name]);
  const all = h('input', { type: 'checkbox', id: `route-all-${id}`, checked: s.channel_ids === null });
  const routes = checkboxes(`route-${id}`, chItems, s.channel_ids || [], 'Only these channels');
  const remind = h('input', { id: `remind-${id}`, type: 'number', min: 0, max: 10080, value: minutes(s.remind_after_seconds) });
  const escalate = h('input', { id: `escalate-${id}`, type: 'number', min: 0, max: 10080, value: minutes(s.escalate_after_seconds) });
  const escCh = checkboxes(`esc-ch-${id}`, chItems, s.escalate_channel_ids, 'Escalate to channels');
  const escUsers = checkboxes(`esc-user-${id}`, members.map((m) => [m.user_id, m.name]), s.escalate_user_ids, 'Escalate to members');
  const picked = (el) => [...el.querySelectorAll('input[type=checkbox]:checked')].map((x) => x.value);
  return h('form', {
    class: 'stack card-form',
    'aria-label': `Notifications of ${a.name}`,
    onsubmit: async (ev) => {
      ev.preventDefault();
      error.textContent = '';
      const body = {
        channel_ids: all.checked ? null : picked(routes),
        remind_after_seconds: Number(remind.value || 0) * 60,
        escalate_after_seconds: Number(escalate.value || 0) * 60,
        escalate_channel_ids: picked(escCh),
        escalate_user_ids: picked(escUsers),
      };
      try {
        await api('PUT', `/v1/settings/agents/${a.agent_id}/notifications`, body);
        announce(`Notifications of ${a.name} saved`);
      } catch (e) {
        error.textContent = describe(e);
      }
    },
  },
  h('h4', { text: a.name }),
  h('div', { class: 'check' }, all, h('label', { for: `route-all-${id}`, text: 'Every channel of the team' })),
  routes,
  h('div', { class: 'field' }, h('label', { for: `remind-${id}`, text: 'Remind after (minutes; empty: never)' }), remind),
  h('div', { class: 'field' }, h('label', { for: `escalate-${id}`, text: 'Escalate after (minutes; empty: never)' }), escalate),
  escCh, escUsers, error,
  h('button', { type: 'submit', class: 'primary' }, 'Save'));
}
