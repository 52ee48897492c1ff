// /app/password: change one's own password. Other sessions end.

import { api, ApiError } from './api.js';
import { h } from './util.js';

export function mount(main, ctx) {
  ctx.setTitle('Change password');
  const msg = h('p', { role: 'status', class: 'outcome' });
  const error = h('p', { class: 'error', role: 'alert' });
  const field = (id, label, auto, extra = {}) => {
    const input = h('input', Object.assign({ id, name: id, type: 'password', autocomplete: auto, required: true }, extra));
    return [input, h('div', { class: 'field' }, h('label', { for: id, text: label }), input)];
  };
  const [cur, curField] = field('current_password', 'Current password', 'current-password');
  const [next, nextField] = field('new_password', 'New password (at least 8 characters)', 'new-password', { minlength: 8 });
  const [again, againField] = field('new_password_again', 'New password again', 'new-password', { minlength: 8 });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Change password');
  const form = h('form', {
    class: 'stack',
    onsubmit: async (ev) => {
      ev.preventDefault();
      msg.textContent = '';
      error.textContent = '';
      if (next.value !== again.value) {
        error.textContent = 'The two new passwords differ.';
        again.focus();
        return;
      }
      button.disabled = true;
      try {
        await api('POST', '/v1/session/password', { current_password: cur.value, new_password: next.value });
        form.reset();
        msg.textContent = 'Your password was changed. Your other sessions were signed out.';
      } catch (e) {
        const issue = e instanceof ApiError && e.body.issues && e.body.issues[0];
        error.textContent = issue ? issue.message : e instanceof ApiError && e.status === 429
          ? 'Too many wrong passwords. Try again later.' : e.message;
      }
      button.disabled = false;
    },
  }, curField, nextField, againField, error, button, msg);
  main.replaceChildren(h('h1', { tabindex: '-1', text: 'Change password' }), form);
  return () => {};
}
