// api.js - the dashboard's only way to the server: hookd's public API with
// the signed-in tenant's key as a Bearer token. The key lives in
// sessionStorage (this tab only, gone when it closes); a 401 signs out.

const KEY_STORAGE = 'hookd.apiKey';

export class ApiError extends Error {
  constructor(status, description) {
    super(description);
    this.status = status;
  }
}

/* The server has no such route (an older hookd): the page says so. */
export class Unavailable extends Error {
  constructor(route) {
    super(`${route} is not available on this server.`);
    this.route = route;
  }
}

let unauthorizedHandler = () => {};
export function onUnauthorized(fn) { unauthorizedHandler = fn; }

export function apiKey() { return sessionStorage.getItem(KEY_STORAGE); }
export function signOut() { sessionStorage.removeItem(KEY_STORAGE); }

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/* A route that the server does not know answers 404 "Not found." (or
 * "Event not found." when it falls on /events/{id}), 405, or, for a GET
 * that falls on /events/{id}, 400 for a query parameter that route does
 * not take (probe: the parameters only the intended route knows). */
function missingRoute(status, description, probe) {
  if (status === 405) return true;
  if (status === 404) return description === 'Not found.' || description === 'Event not found.';
  const field = status === 400 && /^Invalid field (.+)\.$/.exec(description);
  return Boolean(field && Array.isArray(probe) && probe.includes(field[1]));
}

/* optional: the route may be missing on an older server (Unavailable is
 * thrown then); an array names the query parameters that only it takes. */
async function request(method, path, { params, body, key = apiKey(), optional = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (key) headers.Authorization = `Bearer ${key}`;
  const init = { method, headers, cache: 'no-store', credentials: 'omit' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path + query(params), init);
  } catch {
    throw new ApiError(0, 'The server could not be reached.');
  }
  let data = null;
  try { data = await res.json(); } catch { /* not JSON: described below */ }
  if (res.ok) return data;
  const description = (data && data.description) || `The server answered ${res.status}.`;
  if (res.status === 401) {
    unauthorizedHandler();
    throw new ApiError(401, 'Your session has ended: sign in again.');
  }
  if (optional && missingRoute(res.status, description, optional)) throw new Unavailable(`${method} ${path}`);
  if (res.status === 429) throw new ApiError(429, 'Too many requests: the tenant is over its rate limit. Try again in a moment.');
  throw new ApiError(res.status, description);
}

/* Checks a key (any authenticated read will do) and keeps it. */
export async function signIn(key) {
  const res = await fetch('/events/subscriptions', {
    headers: { Accept: 'application/json', Authorization: `Bearer ${key}` }, cache: 'no-store',
  }).catch(() => { throw new ApiError(0, 'The server could not be reached.'); });
  if (res.status === 401) throw new ApiError(401, 'That API key was not accepted.');
  if (!res.ok) throw new ApiError(res.status, `The server answered ${res.status}.`);
  sessionStorage.setItem(KEY_STORAGE, key);
}

export const api = {
  subscriptions: () => request('GET', '/events/subscriptions').then((r) => r.data),
  endpoints: () => request('GET', '/events/endpoints', { optional: true }).then((r) => r.data),
  events: (params) => request('GET', '/events', { params, optional: true }),
  event: (id) => request('GET', `/events/${encodeURIComponent(id)}`, { params: { embed: 'notifications' } }),
  stats: (window) => request('GET', '/events/stats', { params: { window }, optional: ['window'] }).then((r) => r.data),
  types: () => request('GET', '/events/types').then((r) => r.data),
  enable: (url) => request('POST', '/events/endpoints/enable', { body: { webhook_url: url } }),
  disable: (url) => request('POST', '/events/endpoints/disable', { body: { webhook_url: url } }),
  rotateSecret: (url) => request('POST', '/events/endpoints/rotate-secret', { body: { webhook_url: url } }).then((r) => r.data),
  sendTest: (url) => request('POST', '/events/endpoints/test', { body: { webhook_url: url }, optional: true }).then((r) => r.data),
  redeliver: (id, url) => request('POST', `/events/${encodeURIComponent(id)}/redeliver`, url ? { body: { webhook_url: url } } : {}).then((r) => r.data),
};
