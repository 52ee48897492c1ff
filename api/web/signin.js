// /app/signin: email and password. Throttled sign-ins (429) say how long
// to wait.

import { api, ApiError } from './api.js';
import { h } from './util.js';

export function mount(main, ctx, params, onSignedIn) {
  ctx.setTitle('Sign in');
  const error = h('p', { class: 'error', role: 'alert', id: 'signin-error' });
  const email = h('input', { id: 'email', name: 'email', type: 'email', autocomplete: 'username', required: true, 'aria-describedby': 'signin-error' });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, 'aria-describedby': 'signin-error' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h('form', {
    class: 'stack',
    onsubmit: async (ev) => {
      ev.preventDefault();
      error.textContent = '';
      button.disabled = true;
      try {
        const s = await api('POST', '/v1/session', { email: email.value.trim(), password: password.value });
        onSignedIn(s);
      } catch (e) {
        password.value = '';
        if (e instanceof ApiError && e.status === 429) {
          const min = Math.max(1, Math.ceil((e.retryAfter || 60) / 60));
          error.textContent = `Too many failed sign-ins. Try again in ${min} minute${min === 1 ? '' : 's'}.`;
        } else if (e instanceof ApiError && e.status === 401) {
          error.textContent = 'The email or password is not correct.';
        } else if (e instanceof ApiError && (e.status === 0 || e.status === 503)) {
          error.textContent = 'The service is unavailable right now. Try again in a moment.';
        } else {
          error.textContent = e.message || 'Sign-in failed.';
        }
        button.disabled = false;
        password.focus();
      }
    },
  },
  h('div', { class: 'field' }, h('label', { for: 'email', text: 'Email' }), email),
  h('div', { class: 'field' }, h('label', { for: 'password', text: 'Password' }), password),
  error,
  button);
  main.replaceChildren(
    h('div', { class: 'signin' },
      h('h1', { tabindex: '-1', text: 'Sign in to Holdpoint' }),
      h('p', { class: 'muted', text: 'Decide what your agents asked.' }),
      form));
  email.focus();
  return () => {};
}
