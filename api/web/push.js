// "Notify me on this device": Web Push for the signed-in member. The
// service worker (/app/sw.js) shows the notifications and answers their
// Approve / Deny actions through the signed links they carry. Subscribing
// asks the browser's permission, subscribes with the installation's VAPID
// public key and stores the subscription with /v1/review/push-subscriptions;
// turning it off unsubscribes and removes it. Hidden where the browser has no
// Push API.

import { api } from './api.js';
import { announce } from './util.js';

function keyBytes(b64url) {
  const pad = '='.repeat((4 - (b64url.length % 4)) % 4);
  const raw = atob((b64url + pad).replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

async function registration() {
  // Scope /app (not /app/): the inbox lives at /app itself.
  await navigator.serviceWorker.register('/app/sw.js', { scope: '/app' });
  return navigator.serviceWorker.ready;
}

async function current(reg) {
  return reg.pushManager.getSubscription();
}

export async function setup(button) {
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) return;
  let reg;
  try {
    reg = await registration();
  } catch (e) {
    return; // no service worker (an insecure origin): no button
  }
  const label = async () => {
    const sub = await current(reg);
    const on = !!sub && Notification.permission === 'granted';
    button.textContent = on ? 'Notifications on' : 'Notify me';
    button.setAttribute('aria-pressed', on ? 'true' : 'false');
    button.title = on ? 'Notifications reach this device; click to turn them off' : 'Get notified on this device';
  };
  button.hidden = false;
  await label();
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const sub = await current(reg);
      if (sub) {
        const list = await api('GET', '/v1/review/push-subscriptions');
        const mine = list.items.find((s) => s.endpoint === sub.endpoint);
        if (mine) await api('DELETE', `/v1/review/push-subscriptions/${mine.subscription_id}`);
        await sub.unsubscribe();
        announce('Notifications turned off on this device');
      } else {
        if ((await Notification.requestPermission()) !== 'granted') {
          announce('Notifications are blocked for this site in the browser');
          return;
        }
        const { public_key: key } = await api('GET', '/v1/review/push/key');
        const made = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
        await api('POST', '/v1/review/push-subscriptions', made.toJSON());
        announce('Notifications turned on for this device');
      }
    } catch (e) {
      announce(`Notifications could not be changed: ${e.message}`);
    } finally {
      button.disabled = false;
      await label();
    }
  });
}
