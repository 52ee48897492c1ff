// The live inbox stream (GET /v1/review/stream, Server-Sent Events). One
// EventSource per page, shared by every subscriber. It sends "ready" and
// "count" ({pending_count, pending_more}) and "approval" (an approval as
// the reviewer API renders it) whenever the team's approvals change, on
// any replica. EventSource reconnects by itself after a dropped
// connection (with Last-Event-ID, so nothing is missed); when the server
// refused the stream (a 503 while PostgreSQL is down, a 401 after
// sign-out) it gives up, so this module opens a new one with backoff,
// resuming from the last event id.

const subscribers = new Set();
let source = null;
let lastId = '';
let timer = null;
let backoff = 1000;

function emit(kind, data) {
  for (const fn of [...subscribers]) {
    try {
      fn(kind, data);
    } catch (e) {
      console.error(e);
    }
  }
}

function open() {
  timer = null;
  if (source || subscribers.size === 0) return;
  const url = '/v1/review/stream' + (lastId ? `?since=${encodeURIComponent(lastId)}` : '');
  const es = new EventSource(url);
  source = es;
  const on = (name) =>
    es.addEventListener(name, (ev) => {
      if (ev.lastEventId) lastId = ev.lastEventId;
      let data = null;
      try {
        data = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (name === 'ready') backoff = 1000;
      emit(name, data);
    });
  on('ready');
  on('count');
  on('approval');
  es.onopen = () => emit('open', null);
  es.onerror = () => {
    if (es.readyState === EventSource.CLOSED) {
      es.close();
      if (source === es) source = null;
      emit('down', null);
      if (subscribers.size && !timer) {
        timer = setTimeout(open, backoff);
        backoff = Math.min(backoff * 2, 15000);
      }
    } else {
      emit('reconnecting', null);
    }
  };
}

export function subscribe(fn) {
  subscribers.add(fn);
  open();
  return () => {
    subscribers.delete(fn);
    if (subscribers.size === 0) {
      if (source) source.close();
      source = null;
      if (timer) clearTimeout(timer);
      timer = null;
    }
  };
}
