// JSON calls to the public API. No cookies are sent: these routes need none, and an agent's session cookie in the
// same browser would only make the server ask for a CSRF token.

/* {"error":{code, message, field}} from the server, or code "network" when it could not be reached. */
export class ApiError extends Error {
  constructor(status, code, field, retryAfter) {
    super(code);
    this.status = status;
    this.code = code;
    this.field = field || null;
    this.retryAfter = retryAfter;
  }
}

export async function api(method, path, body) {
  let res;
  try {
    res = await fetch('/api/v1' + path, {
      method,
      headers: body === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'network');
  }
  let data = null;
  try {
    data = await res.json();
  } catch (e) { /* no JSON body */ }
  if (!res.ok) {
    const err = (data && data.error) || {};
    const retry = parseInt(res.headers.get('Retry-After') || '', 10);
    throw new ApiError(res.status, err.code || 'http_' + res.status, err.field, retry > 0 ? retry : null);
  }
  return data;
}

/* The limits the public routes check (GET /api/v1/public/config), with the server's defaults until it answers. */
export const config = {
  name: '',
  limits: {
    name_bytes: 200, email_bytes: 254, subject_bytes: 250, body_bytes: 20000, order_number_bytes: 64,
    attachments: 10, attachment_bytes: 10 * 1024 * 1024, request_bytes: 16 * 1024 * 1024,
  },
};

export function loadConfig() {
  return api('GET', '/public/config').then((c) => {
    if (c && c.limits) Object.assign(config.limits, c.limits);
    if (c && typeof c.name === 'string') config.name = c.name;
  }, () => { /* the defaults will do; the server checks again */ });
}

/* The shop's face (GET /api/v1/public/shop, the core's shop.* settings): name, logo, colour, KVKK notice. */
export const shop = { name: '', logo_url: '', colour: '', privacy_url: '' };

export function loadShop() {
  return api('GET', '/public/shop').then((c) => {
    for (const k of Object.keys(shop)) if (c && typeof c[k] === 'string') shop[k] = c[k];
  }, () => { /* the portal's own look */ });
}
