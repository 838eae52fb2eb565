// endpoints.js - the tenant's endpoints with their health and actions
// (send a test event, rotate the secret, disable, enable). Without
// GET /events/endpoints (an older server) it lists the endpoints its
// subscriptions name, with actions but no health.
import { h, pill, timeEl, fmtMs, fmtRate, fmtCount, rateTone, statusTone, copyButton } from './dom.js';
import { api, Unavailable } from './api.js';
import { pageHeader, loadingRows, emptyState, errorState, replace, toast, dialog, confirmDialog, busy } from './ui.js';

/* Endpoints from subscriptions, for servers without GET /events/endpoints. */
function fromSubscriptions(subs) {
  const byUrl = new Map();
  for (const s of subs) {
    let e = byUrl.get(s.webhook_url);
    if (!e) {
      e = { webhook_url: s.webhook_url, status: s.status, disabled_reason: s.disabled_reason, created: s.created, types: [], limited: true };
      byUrl.set(s.webhook_url, e);
    }
    e.types.push(s.type);
  }
  return [...byUrl.values()];
}

export async function load() {
  try {
    return { endpoints: await api.endpoints(), limited: false };
  } catch (err) {
    if (!(err instanceof Unavailable)) throw err;
    return { endpoints: fromSubscriptions(await api.subscriptions()), limited: true };
  }
}

function healthCell(window, label) {
  if (!window) return h('td', { 'data-label': label, class: 'num' }, h('span', { class: 'muted' }, '—'));
  const rate = window.success_rate;
  const tone = rateTone(rate);
  return h('td', { 'data-label': label, class: 'num' },
    h('div', { class: ['rate', `tone-${tone}`] }, fmtRate(rate)),
    h('div', { class: 'meter', 'aria-hidden': 'true' },
      h('span', { class: `meter-fill tone-${tone}`, dataset: { pct: rate === null ? 0 : Math.round(rate * 100) } })),
    h('div', { class: 'tiny muted' }, window.attempts ? `${fmtCount(window.succeeded)} of ${fmtCount(window.attempts)}` : 'no attempts'));
}

/* The endpoint's own delivery settings, when it has any. */
function limits(e) {
  const parts = [];
  if (e.rate_limit !== null && e.rate_limit !== undefined) parts.push(`≤ ${e.rate_limit}/s`);
  if (e.max_in_flight !== null && e.max_in_flight !== undefined) parts.push(`${e.max_in_flight} in flight`);
  if (e.sign_v1a === true) parts.push('signs v1a');
  if (e.sign_v1a === false) parts.push('no v1a');
  return parts.length ? h('div', { class: 'tiny muted', title: 'Set with POST /events/endpoints/configure' }, parts.join(' · ')) : null;
}

function circuitPill(e) {
  if (!e.circuit || e.circuit === 'closed') return null;
  const until = e.circuit_open_until ? ` until ${new Date(e.circuit_open_until).toLocaleTimeString()}` : '';
  return pill(e.circuit === 'open' ? 'circuit open' : 'half-open', e.circuit === 'open' ? 'bad' : 'warn',
    `Circuit ${e.circuit}${until} after ${e.failure_streak} failures in a row`);
}

function lastAttemptCell(a) {
  if (!a) return h('td', { 'data-label': 'Last attempt' }, h('span', { class: 'muted' }, 'never'));
  const tone = statusTone(a.status, a.error);
  return h('td', { 'data-label': 'Last attempt' },
    h('div', {}, pill(a.status === null ? 'no answer' : String(a.status), tone), ' ', h('span', { class: 'tiny' }, fmtMs(a.duration_ms))),
    h('div', { class: 'tiny muted' }, timeEl(a.at)),
    a.error ? h('div', { class: 'tiny tone-text-bad clip', title: a.error }, a.error) : null);
}

async function rotate(e, reload) {
  const ok = await confirmDialog('Rotate the signing secret?',
    `A new secret is issued for ${e.webhook_url}. The current one keeps signing beside it for a while, so the receiver can switch without losing events.`,
    'Rotate secret');
  if (!ok) return;
  const data = await api.rotateSecret(e.webhook_url);
  await dialog('New signing secret', [
    h('p', {}, 'Store it now: it is shown only this once.'),
    h('div', { class: 'secret' }, h('code', { id: 'new-secret' }, data.secret), copyButton(data.secret)),
    data.previous_secret_expires
      ? h('p', { class: 'muted' }, 'The previous secret also signs until ', h('strong', {}, new Date(data.previous_secret_expires).toLocaleString()), '.')
      : null,
  ], [{ label: 'Done', value: 'done', primary: true }]);
  reload();
}

async function sendTest(e) {
  const data = await api.sendTest(e.webhook_url);
  toast('Test event queued.', 'ok', h('a', { href: `#/events/${encodeURIComponent(data.event_id)}` }, 'View its timeline'));
}

async function toggle(e, reload) {
  if (e.status === 'disabled') {
    await api.enable(e.webhook_url);
    toast('Endpoint enabled: deliveries kept while it was disabled are sent now.');
  } else {
    const ok = await confirmDialog('Disable this endpoint?',
      `Nothing is sent to ${e.webhook_url} until it is enabled again. Deliveries are kept and sent then.`, 'Disable', true);
    if (!ok) return;
    await api.disable(e.webhook_url);
    toast('Endpoint disabled.');
  }
  reload();
}

function actions(e, reload, limited) {
  const action = (label, fn, cls, off) => {
    const b = h('button', { class: ['btn btn-small', cls], type: 'button', disabled: Boolean(off), title: off || null }, label);
    b.addEventListener('click', () => busy(b, fn));
    return b;
  };
  return h('td', { class: 'actions', 'data-label': 'Actions' },
    h('div', { class: 'btn-row' },
      limited ? null : action('Send test', () => sendTest(e), null, e.status === 'disabled' ? 'Enable the endpoint to send a test event' : null),
      action('Rotate secret', () => rotate(e, reload)),
      e.status === 'disabled'
        ? action('Enable', () => toggle(e, reload), 'btn-primary')
        : action('Disable', () => toggle(e, reload), 'btn-danger-quiet')));
}

function row(e, reload, limited) {
  const disabled = e.status === 'disabled';
  return h('tr', { class: ['endpoint', disabled && 'is-disabled'], dataset: { url: e.webhook_url } },
    h('td', { class: 'endpoint-main', 'data-label': 'Endpoint' },
      h('div', { class: 'url mono', title: e.webhook_url }, e.webhook_url),
      h('div', { class: 'chips' }, (e.types || []).map((t) => h('span', { class: 'chip' }, t === '*' ? 'all events' : t)))),
    h('td', { 'data-label': 'Status' },
      h('div', { class: 'pills' }, pill(disabled ? 'disabled' : 'active', disabled ? 'bad' : 'ok'), circuitPill(e)),
      disabled && e.disabled_reason ? h('div', { class: 'tiny muted reason' }, e.disabled_reason) : null,
      !disabled && e.failure_streak > 0 ? h('div', { class: 'tiny tone-text-warn' }, `${e.failure_streak} failure${e.failure_streak === 1 ? '' : 's'} in a row`) : null,
      limits(e),
      e.previous_secret_expires && new Date(e.previous_secret_expires) > Date.now()
        ? h('div', { class: 'tiny muted', title: e.previous_secret_expires }, 'Old secret signs until ', new Date(e.previous_secret_expires).toLocaleString()) : null),
    limited ? h('td', { 'data-label': 'Health', class: 'muted tiny', colspan: 4 }, 'Health needs a newer hookd.') : [
      healthCell(e.health && e.health.hour, 'Last hour'),
      healthCell(e.health && e.health.day, 'Last day'),
      lastAttemptCell(e.last_attempt),
      h('td', { 'data-label': 'Queue', class: 'num' },
        e.queue ? [h('div', {}, fmtCount(e.queue.pending), h('span', { class: 'tiny muted' }, ' pending')),
          e.queue.failed ? h('div', { class: 'tiny tone-text-bad', title: 'Gave up after every retry: redeliver or recover them' }, `${fmtCount(e.queue.failed)} failed`) : null,
          e.queue.disabled ? h('div', { class: 'tiny muted', title: 'Kept while the endpoint is disabled; sent when it is enabled' }, `${fmtCount(e.queue.disabled)} held`) : null] : '—'),
    ],
    actions(e, reload, limited));
}

function summary(list) {
  const disabled = list.filter((e) => e.status === 'disabled').length;
  const open = list.filter((e) => e.circuit === 'open' || e.circuit === 'half-open').length;
  return `${list.length} endpoint${list.length === 1 ? '' : 's'} · ${list.length - disabled} active` +
    (disabled ? ` · ${disabled} disabled` : '') + (open ? ` · ${open} with an open circuit` : '');
}

export function render(main, _route, page) {
  const sub = h('p', { class: 'page-sub' }, '');
  const body = h('section', { class: 'card flush' }, loadingRows(4, 'Loading endpoints'));
  const head = pageHeader('Endpoints', null);
  head.firstChild.append(sub);
  main.append(head, body);
  let last = '';

  async function reload() {
    let result;
    try {
      result = await load();
    } catch (err) {
      if (page.alive) { last = ''; replace(body, errorState(err, reload)); }
      return;
    }
    if (!page.alive) return;
    const text = JSON.stringify(result);
    if (text === last) return;   // nothing changed: keep focus and scroll
    last = text;
    const { endpoints, limited } = result;
    sub.textContent = endpoints.length ? summary(endpoints) : '';
    if (!endpoints.length) {
      replace(body, emptyState('No endpoints yet',
        'An endpoint appears when a webhook URL is first subscribed to an event type:',
        h('pre', { class: 'code' }, 'curl -X POST $HOOKD/events/subscribe \\\n  -H "Authorization: Bearer $KEY" \\\n  -d type=order.updated -d webhook_url=https://example.org/hooks')));
      return;
    }
    replace(body,
      limited ? h('p', { class: 'notice' }, 'This server has no GET /events/endpoints: health, circuit state and test events are not available.') : null,
      h('div', { class: 'table-wrap' }, h('table', { class: 'table endpoints' },
        h('thead', {}, h('tr', {}, ['Endpoint', 'Status', ...(limited ? ['Health'] : ['Last hour', 'Last day', 'Last attempt', 'Queue']), ''].map((t, i) =>
          h('th', { class: i >= 2 && i <= 5 && t !== 'Last attempt' && !limited ? 'num' : null, colspan: limited && t === 'Health' ? 4 : null }, t)))),
        h('tbody', {}, endpoints.map((e) => row(e, reload, limited))))));
    for (const fill of body.querySelectorAll('.meter-fill')) fill.style.width = `${fill.dataset.pct}%`;
  }
  reload();
  page.every(15000, reload);
}
