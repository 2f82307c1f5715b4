// JSON calls to /api/v1. Holds the CSRF token in memory (never in storage) and sends it on every write.

let csrfToken = null;

export function setCsrfToken(token) {
  csrfToken = token || null;
}

/* An error answered by the API ({"error":{"code","message","field"}}), or code "network" when the server
 * could not be reached. retryAfter is the Retry-After header in seconds, when there is one; details is the whole
 * "error" object, for the members some errors add (a merge refused as customers_differ names both tickets). */
export class ApiError extends Error {
  constructor(status, code, message, field, retryAfter) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.field = field || null;
    this.retryAfter = retryAfter;
  }
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/* Sign-out: calls already on their way finish under the session that sent them, and none starts after it
 * (a view refreshing while the user signs out would otherwise meet a 401 for a session it never lost). */
let inFlight = 0;
let idle = [];
let closing = false;

/* Stops new calls but the sign-out itself (they never settle: their screens are about to go) and resolves once the calls on their way
 * have answered, or after ms. */
export function closeCalls(ms) {
  closing = true;
  if (inFlight === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    idle.push(() => { clearTimeout(t); resolve(); });
  });
}

/* Lets calls start again (after sign-out, for the sign-in page's own calls). */
export function openCalls() {
  closing = false;
}

/* Calls METHOD /api/v1PATH with an optional JSON body. Resolves to the parsed JSON body (null for 204);
 * rejects with an ApiError. */
export async function api(method, path, body) {
  if (closing && path !== '/auth/logout') return new Promise(() => {});
  inFlight++;
  try {
    return await call(method, path, body);
  } finally {
    if (--inFlight === 0) { const waiting = idle; idle = []; waiting.forEach((f) => f()); }
  }
}

/* The call itself; ApiError on an error answer. */
async function call(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (WRITES.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch('/api/v1' + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'network', e && e.message);
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch (e) {
    data = null;
  }
  if (!res.ok) {
    const err = (data && data.error) || {};
    const retry = parseInt(res.headers.get('Retry-After') || '', 10);
    const e = new ApiError(res.status, err.code || 'http_' + res.status, err.message || res.statusText,
      err.field, Number.isFinite(retry) ? retry : null);
    e.details = err;
    throw e;
  }
  if (data && typeof data.csrf_token === 'string') setCsrfToken(data.csrf_token);
  return data;
}
