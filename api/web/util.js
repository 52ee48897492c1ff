// Small DOM and time helpers shared by every page. Elements are built with
// h(); text always goes in as text nodes, never as HTML.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeFmt = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

export function fmtDate(iso) {
  return iso ? dateFmt.format(new Date(iso)) : '';
}

export function fmtTime(iso) {
  return iso ? timeFmt.format(new Date(iso)) : '';
}

// "4m 05s", "2h 10m", "3d 4h"; null once the moment has passed.
export function fmtLeft(iso, now = Date.now()) {
  let s = Math.floor((new Date(iso).getTime() - now) / 1000);
  if (s <= 0) return null;
  const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  s %= 60;
  if (d > 0) return `${d}d ${hh}h`;
  if (hh > 0) return `${hh}h ${String(m).padStart(2, '0')}m`;
  return `${m}m ${String(s).padStart(2, '0')}s`;
}

// "3 min ago" style, coarse.
export function fmtAgo(iso, now = Date.now()) {
  const s = Math.max(0, Math.floor((now - new Date(iso).getTime()) / 1000));
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return fmtDate(iso);
}

// Says msg to screen readers through the polite live region.
export function announce(msg) {
  const el = document.getElementById('announce');
  if (!el) return;
  el.textContent = '';
  setTimeout(() => { el.textContent = msg; }, 50);
}

// One timer for every countdown on the page: elements with data-expires
// get their text refreshed each second; onExpire runs once per element.
export function startCountdowns(root, onExpire) {
  const tick = () => {
    for (const el of root.querySelectorAll('[data-expires]')) {
      const left = fmtLeft(el.dataset.expires);
      if (left) {
        el.textContent = `${left} left`;
      } else if (!el.dataset.expired) {
        el.dataset.expired = '1';
        el.textContent = 'time is up';
        if (onExpire) onExpire(el);
      }
    }
  };
  tick();
  const id = setInterval(tick, 1000);
  return () => clearInterval(id);
}

export const STATUS_TEXT = {
  pending: 'Pending',
  selected_option: 'Decided',
  custom_instruction: 'Instruction given',
  expired: 'Expired',
  cancelled: 'Cancelled',
};

export function statusPill(status) {
  return h('span', { class: `pill pill-${status}`, text: STATUS_TEXT[status] || status });
}
