// Holdpoint's service worker (served at /app/sw.js, scope /app): shows the
// Web Push notifications holdpoint-delivery sends — the question, the
// context and Approve / Deny (the first two options) — and answers them.
// An action POSTs its signed link, which decides that option (a link only
// decides on POST, so nothing else here can); the notification is replaced
// by the outcome. Tapping the notification opens the decision page.

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('push', (event) => {
  let d;
  try {
    d = event.data ? event.data.json() : {};
  } catch (e) {
    d = { title: 'Holdpoint', body: event.data ? event.data.text() : '' };
  }
  const actions = (d.actions || []).slice(0, 2);
  event.waitUntil(self.registration.showNotification(d.title || 'Holdpoint', {
    body: d.body || '',
    tag: d.tag || undefined,
    renotify: !!d.tag,
    requireInteraction: !!d.approval_id,
    data: { url: d.url || '/app', actions },
    actions: actions.map((a) => ({ action: a.action, title: a.title })),
  }));
});

async function decide(notification, act) {
  let title;
  try {
    const res = await fetch(act.url, { method: 'POST', credentials: 'omit', cache: 'no-store' });
    title = res.ok ? `Recorded: ${act.title}`
      : res.status === 409 ? 'Already decided'
        : res.status === 410 ? 'This request has expired'
          : 'Not recorded: open Holdpoint to decide';
  } catch (e) {
    title = 'Not recorded: no connection';
  }
  await self.registration.showNotification(title, { tag: notification.tag || undefined, body: notification.title });
}

async function open(url) {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  for (const w of windows) {
    if (new URL(w.url).pathname === new URL(url, self.location.origin).pathname && 'focus' in w) return w.focus();
  }
  return self.clients.openWindow(url);
}

self.addEventListener('notificationclick', (event) => {
  const n = event.notification;
  const d = n.data || {};
  n.close();
  const act = (d.actions || []).find((a) => a.action === event.action);
  event.waitUntil(act ? decide(n, act) : open(d.url || '/app'));
});
