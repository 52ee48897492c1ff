// The JSON API (/v1) as the pages use it: the session cookie travels with
// every request, and every change carries the session's CSRF token. Errors
// become ApiError with the server's code and message.

let csrfToken = null;

export function setCsrf(token) {
  csrfToken = token || null;
}

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    super((body && body.message) || (status ? `HTTP ${status}` : 'The service cannot be reached.'));
    this.status = status;
    this.code = (body && body.error) || (status ? 'http_error' : 'network');
    this.body = body || {};
    this.retryAfter = Number(retryAfter) || 0;
  }
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, null);
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    data = null;
  }
  if (!res.ok) throw new ApiError(res.status, data, res.headers.get('Retry-After'));
  return data;
}

// The service (or PostgreSQL behind it) is down or unreachable: worth retrying.
export function isUnavailable(e) {
  return e instanceof ApiError && (e.status === 0 || e.status === 502 || e.status === 503 || e.status === 504);
}

export function isSignedOut(e) {
  return e instanceof ApiError && e.status === 401;
}

// Runs fn until it does not fail with "unavailable", telling the person so
// through banner (show(text) / hide()) and waiting longer each time (1 s,
// 2 s, 4 s … at most 15 s, or the server's Retry-After). Other errors are
// thrown to the caller. stop() (when given) ends the retries.
export async function retrying(fn, banner, isStopped = () => false) {
  let wait = 1000;
  for (;;) {
    try {
      const v = await fn();
      banner.hide();
      return v;
    } catch (e) {
      if (!isUnavailable(e) || isStopped()) throw e;
      const ms = Math.max(wait, e.retryAfter * 1000);
      banner.show(`The service is unavailable right now. Retrying in ${Math.round(ms / 1000)} s…`);
      await new Promise((r) => setTimeout(r, ms));
      wait = Math.min(wait * 2, 15000);
    }
  }
}
