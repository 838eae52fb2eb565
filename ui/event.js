// event.js - one event: its payload and, for every endpoint it went to,
// the delivery timeline (each attempt's status, duration, response body and
// error), with redelivery. Refreshes itself while deliveries are under way.
import { h, timeEl, fmtMs, fmtTime, pill, statusTone, copyButton } from './dom.js';
import { api } from './api.js';
import { loadingRows, errorState, replace, toast, busy } from './ui.js';

const STATE_TONES = { delivered: 'ok', pending: 'warn', delivering: 'warn', failed: 'bad', disabled: 'muted' };

function attemptItem(a) {
  const tone = statusTone(a.status, a.error);
  return h('li', { class: ['attempt', `tone-${tone}`], dataset: { number: a.number } },
    h('span', { class: `attempt-dot tone-${tone}`, 'aria-hidden': 'true' }),
    h('div', { class: 'attempt-head' },
      h('strong', {}, `Attempt ${a.number}`),
      pill(a.status === null || a.status === undefined ? 'no answer' : String(a.status), tone),
      h('span', { class: 'attempt-duration', title: 'Duration' }, fmtMs(a.duration_ms)),
      h('span', { class: 'muted tiny attempt-time' }, h('time', { datetime: a.started, title: a.started }, fmtTime(a.started)))),
    a.error ? h('div', { class: 'attempt-error' }, a.error) : null,
    a.response_body !== null && a.response_body !== undefined && a.response_body !== ''
      ? h('pre', { class: 'attempt-body', 'aria-label': 'Response body' }, a.response_body)
      : h('div', { class: 'tiny muted' }, a.status ? 'Empty response body' : null),
    a.next_attempt_at && new Date(a.next_attempt_at) > Date.now()
      ? h('div', { class: 'tiny muted' }, 'Next retry ', timeEl(a.next_attempt_at)) : null);
}

function notificationCard(eventId, n, reload, onAction) {
  const redeliver = h('button', { class: 'btn btn-small', type: 'button' }, 'Redeliver');
  redeliver.addEventListener('click', () => busy(redeliver, async () => {
    await api.redeliver(eventId, n.webhook_url);
    onAction();
    toast('Redelivery queued.');
    reload();
  }));
  const attempts = [...(n.attempts || [])].sort((a, b) => b.number - a.number);
  return h('article', { class: 'card delivery', dataset: { url: n.webhook_url, state: n.state } },
    h('header', { class: 'delivery-head' },
      h('div', { class: 'delivery-title' },
        h('div', { class: 'url mono', title: n.webhook_url }, n.webhook_url),
        h('div', { class: 'pills' }, pill(n.state, STATE_TONES[n.state] || 'muted'),
          h('span', { class: 'tiny muted' }, `${n.attempt_count} attempt${n.attempt_count === 1 ? '' : 's'}`),
          n.next_attempt_at ? h('span', { class: 'tiny muted' }, '· next ', timeEl(n.next_attempt_at)) : null)),
      redeliver),
    attempts.length
      ? h('ol', { class: 'timeline', 'aria-label': 'Attempts, newest first' }, attempts.map(attemptItem))
      : h('p', { class: 'muted tiny pad' }, n.state === 'disabled' ? 'Kept while the endpoint is disabled: sent when it is enabled.' : 'No attempt yet.'));
}

function payloadCard(event) {
  const { notifications, ...stored } = event;
  const text = JSON.stringify(stored, null, 2);
  return h('section', { class: 'card payload' },
    h('header', { class: 'card-head' }, h('h2', {}, 'Payload'), copyButton(text, 'Copy JSON')),
    h('pre', { class: 'code json' }, text));
}

export function render(main, { args }, page) {
  const id = args[0];
  const body = h('div', { class: 'event-page' }, loadingRows(5, 'Loading event'));
  main.append(h('nav', { class: 'crumbs' }, h('a', { href: '#/events' }, 'Events'), ' / ', h('span', { class: 'mono' }, id)), body);
  let last = '';
  let busyUntil = Date.now() + 30000;   // poll fast for a while after loading or acting
  let ticks = 0;

  async function reload() {
    let event;
    try {
      event = await api.event(id);
    } catch (err) {
      if (!page.alive) return;
      last = '';
      replace(body, err.status === 404
        ? h('div', { class: 'state state-empty' }, h('div', { class: 'state-icon', 'aria-hidden': 'true' }, '?'),
          h('h2', {}, 'Event not found'), h('p', {}, `This tenant has no event ${id}.`), h('a', { class: 'btn', href: '#/events' }, 'Back to events'))
        : errorState(err, reload));
      return;
    }
    if (!page.alive) return;
    const text = JSON.stringify(event);
    if (text === last) return;
    last = text;
    const notifications = event.notifications || [];
    if (notifications.some((n) => n.state === 'pending' || n.state === 'delivering')) busyUntil = Date.now() + 30000;
    const redeliverAll = h('button', { class: 'btn', type: 'button' }, 'Redeliver to all');
    redeliverAll.addEventListener('click', () => busy(redeliverAll, async () => {
      const r = await api.redeliver(id);
      busyUntil = Date.now() + 30000;
      toast(`Redelivery queued to ${r.queued} endpoint${r.queued === 1 ? '' : 's'}.`);
      reload();
    }));
    replace(body,
      h('header', { class: 'page-head' },
        h('div', {},
          h('h1', { class: 'mono event-id' }, event.id, ' ', copyButton(event.id)),
          h('p', { class: 'page-sub' }, h('span', { class: 'chip' }, event.type), ` version ${event.version} · occurred `,
            h('time', { datetime: event.occurred, title: event.occurred }, new Date(event.occurred).toLocaleString()))),
        h('div', { class: 'page-actions' }, notifications.length ? redeliverAll : null)),
      h('div', { class: 'event-grid' },
        h('section', { class: 'deliveries', 'aria-label': 'Deliveries' },
          h('h2', { class: 'section-title' }, 'Deliveries'),
          notifications.length
            ? notifications.map((n) => notificationCard(id, n, reload, () => { busyUntil = Date.now() + 30000; }))
            : h('div', { class: 'card state state-empty small' }, h('p', {}, 'No endpoint was subscribed to this event type when it was published.'))),
        payloadCard(event)));
  }
  reload();
  // Every 2.5 s while deliveries are under way (or just after an action),
  // every 15 s once everything has settled.
  page.every(2500, () => { ticks++; if (Date.now() < busyUntil || ticks % 6 === 0) reload(); });
}
