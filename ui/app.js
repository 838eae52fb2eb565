// app.js - the dashboard's shell: sign-in, navigation, and the hash router
// (#/overview, #/endpoints, #/events, #/events/EV...). Each page is a
// module whose render(main, params, page) fills main; page.alive() turns
// false when the user leaves, and page.every() runs a refresh until then.
import { h, svg, clear } from './dom.js';
import { apiKey, signIn, signOut, onUnauthorized, ApiError } from './api.js';
import * as overview from './overview.js';
import * as endpoints from './endpoints.js';
import * as events from './events.js';
import * as eventDetail from './event.js';

const root = document.getElementById('app');

const routes = [
  { pattern: /^\/overview$/, nav: 'overview', view: overview },
  { pattern: /^\/endpoints$/, nav: 'endpoints', view: endpoints },
  { pattern: /^\/events\/([^/]+)$/, nav: 'events', view: eventDetail },
  { pattern: /^\/events$/, nav: 'events', view: events },
];

/* The mark, drawn in place: it needs no request (and so shows even when the
 * server is gone). */
function logo(size) {
  return svg('svg', { viewBox: '0 0 32 32', width: size, height: size, 'aria-hidden': 'true', class: 'logo' },
    svg('rect', { width: 32, height: 32, rx: 7, class: 'logo-bg' }),
    svg('path', { d: 'M10 8v9a6 6 0 0 0 12 0v-3', class: 'logo-line' }),
    svg('circle', { cx: 22, cy: 10, r: 2.5, class: 'logo-dot' }));
}

let current = null;   // the page being shown: { alive, timers }

function leavePage() {
  if (!current) return;
  current.alive = false;
  current.timers.forEach(clearInterval);
  current = null;
}

function signInView(message) {
  leavePage();
  const input = h('input', { id: 'api-key', name: 'api-key', type: 'password', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'hk_…', required: true, 'aria-describedby': 'signin-help' });
  const error = h('p', { class: 'form-error', role: 'alert', id: 'signin-error' }, message || '');
  const button = h('button', { class: 'btn btn-primary btn-block', type: 'submit' }, 'Sign in');
  const form = h('form', { class: 'signin-card', novalidate: true },
    h('div', { class: 'brand brand-large' }, logo(28), 'hookd'),
    h('h1', {}, 'Sign in to your dashboard'),
    h('label', { for: 'api-key' }, 'Tenant API key'),
    input,
    h('p', { class: 'help', id: 'signin-help' },
      'The key stays in this browser tab only (session storage) and is sent to this server as a Bearer token. ',
      'The dashboard can do exactly what the key can do through the API.'),
    error, button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const key = input.value.trim();
    if (!key) { error.textContent = 'Enter an API key.'; input.focus(); return; }
    button.disabled = true;
    button.textContent = 'Signing in…';
    error.textContent = '';
    try {
      await signIn(key);
      if (!location.hash || location.hash === '#/' || location.hash === '#/signin') location.hash = '#/overview';
      route();
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.message : 'Sign-in failed.';
      button.disabled = false;
      button.textContent = 'Sign in';
      input.select();
    }
  });
  root.removeAttribute('aria-busy');
  root.className = 'signin';
  clear(root).append(h('main', { class: 'signin-wrap' }, form));
  input.focus();
}

function shell(active) {
  const link = (id, label) => h('a', { href: `#/${id}`, class: ['nav-link', active === id && 'active'],
    'aria-current': active === id ? 'page' : null }, label);
  const main = h('main', { id: 'main', class: 'main', tabindex: '-1' });
  root.className = 'shell';
  root.removeAttribute('aria-busy');
  clear(root).append(
    h('header', { class: 'topbar' },
      h('a', { class: 'brand', href: '#/overview', 'aria-label': 'hookd' }, logo(22), h('span', { class: 'brand-name' }, 'hookd')),
      h('nav', { class: 'nav', 'aria-label': 'Main' }, link('overview', 'Overview'), link('endpoints', 'Endpoints'), link('events', 'Events')),
      h('button', { class: 'btn btn-ghost signout', type: 'button', onclick: () => { signOut(); location.hash = '#/signin'; } }, 'Sign out')),
    main);
  return main;
}

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/overview';
  const [path, qs] = raw.split('?');
  return { path, params: new URLSearchParams(qs || '') };
}

function route() {
  if (!apiKey()) { signInView(); return; }
  const { path, params } = parseHash();
  const match = routes.map((r) => ({ r, m: path.match(r.pattern) })).find((x) => x.m);
  if (!match) { location.replace('#/overview'); return; }
  leavePage();
  const page = { alive: true, timers: [] };
  page.every = (ms, fn) => { page.timers.push(setInterval(() => { if (page.alive && !document.hidden) fn(); }, ms)); };
  current = page;
  const main = shell(match.r.nav);
  const args = match.m.slice(1).map(decodeURIComponent);
  match.r.view.render(main, { args, params }, page);
}

onUnauthorized(() => {
  signOut();
  signInView('Your session has ended or the key was revoked: sign in again.');
});
window.addEventListener('hashchange', route);
route();
