// events.js - the tenant's events, newest first, searchable by id and type,
// each with a summary of its deliveries; a click opens its timeline.
import { h, timeEl } from './dom.js';
import { api, Unavailable } from './api.js';
import { pageHeader, loadingRows, emptyState, errorState, replace } from './ui.js';

const ID_PATTERN = /^EV[0-9A-Za-z]{18}$/;

function deliveryCounts(d) {
  if (!d) return h('span', { class: 'muted' }, '—');
  const parts = [['delivered', 'ok'], ['pending', 'warn'], ['failed', 'bad'], ['disabled', 'muted']]
    .filter(([k]) => d[k] > 0)
    .map(([k, tone]) => h('span', { class: ['count', `tone-text-${tone}`], title: `${d[k]} ${k}` }, h('span', { class: `dot tone-${tone}` }), `${d[k]} ${k}`));
  return parts.length ? h('span', { class: 'counts' }, parts) : h('span', { class: 'muted tiny' }, 'no deliveries');
}

function row(e) {
  const href = `#/events/${encodeURIComponent(e.id)}`;
  // The whole row opens the event; the link stays for keyboards and new tabs.
  return h('tr', { class: 'event-row clickable', dataset: { id: e.id },
    onclick: (ev) => { if (!ev.target.closest('a') && !window.getSelection().toString()) location.hash = href; } },
    h('td', { 'data-label': 'Event' }, h('a', { class: 'mono', href }, e.id)),
    h('td', { 'data-label': 'Type' }, h('span', { class: 'chip' }, e.type)),
    h('td', { 'data-label': 'Deliveries' }, deliveryCounts(e.deliveries)),
    h('td', { 'data-label': 'Occurred', class: 'num' }, timeEl(e.occurred)));
}

/* The search form; its type list is filled in when the catalog arrives
 * (without touching what the user typed meanwhile). */
function searchForm(params) {
  const form = h('form', { class: 'search', role: 'search' });
  const id = h('input', { name: 'id', type: 'search', placeholder: 'Event id (EV…)', value: params.get('id') || '', class: 'mono', 'aria-label': 'Event id', spellcheck: 'false' });
  const wanted = params.get('type');
  const type = h('select', { name: 'type', 'aria-label': 'Event type' },
    h('option', { value: '' }, 'All types'),
    wanted ? h('option', { value: wanted, selected: true }, wanted) : null);
  form.setTypes = (types) => {
    for (const t of types) {
      if (t !== wanted) type.append(h('option', { value: t }, t));
    }
  };
  form.append(id, type, h('button', { class: 'btn', type: 'submit' }, 'Search'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const idValue = id.value.trim();
    if (idValue && ID_PATTERN.test(idValue)) { location.hash = `#/events/${encodeURIComponent(idValue)}`; return; }
    const q = new URLSearchParams();
    if (idValue) q.set('id', idValue);
    if (type.value) q.set('type', type.value);
    location.hash = `#/events${q.toString() ? `?${q}` : ''}`;
  });
  return form;
}

export function render(main, { params }, page) {
  const form = searchForm(params);
  const formSlot = h('div', { class: 'toolbar' }, form);
  const body = h('section', { class: 'card flush' }, loadingRows(6, 'Loading events'));
  const refresh = h('button', { class: 'btn', type: 'button', onclick: () => { replace(body, loadingRows(6, 'Loading events')); loadPage(); } }, 'Refresh');
  main.append(pageHeader('Events', 'Every event published for this tenant, newest first.', refresh), formSlot, body);
  api.types().then((types) => {
    if (page.alive) form.setTypes((types || []).map((t) => t.name).filter((t) => typeof t === 'string'));
  }).catch(() => { /* the type list is optional: the id search still works */ });

  const filters = { type: params.get('type') || undefined, id: params.get('id') || undefined, limit: 50 };
  let tbody = null;
  if (filters.id && !ID_PATTERN.test(filters.id)) {
    replace(body, emptyState(`“${filters.id}” is not an event id`, 'Event ids are EV followed by 18 letters and digits, the id of a published event, also sent as the webhook-id header of its deliveries.'));
    return;
  }

  async function loadPage(before) {
    let result;
    try {
      result = await api.events({ ...filters, before });
    } catch (err) {
      if (!page.alive) return;
      if (err instanceof Unavailable) {
        replace(body, h('div', { class: 'state state-unavailable' },
          h('div', { class: 'state-icon', 'aria-hidden': 'true' }, '◌'),
          h('h2', {}, 'Event list not available on this server'),
          h('p', {}, 'This hookd has no GET /events listing. Look an event up by its id above to see its payload and delivery timeline.')));
      } else {
        replace(body, errorState(err, () => { replace(body, loadingRows(6)); loadPage(before); }));
      }
      return;
    }
    if (!page.alive) return;
    const list = result.data || [];
    if (!before) {
      if (!list.length) {
        const filtered = filters.type || filters.id;
        replace(body, emptyState(filtered ? 'No matching events' : 'No events yet',
          filtered ? 'No event of this tenant matches the search.' : 'Events appear here as soon as they are published (POST /events).'));
        return;
      }
      tbody = h('tbody', {});
      replace(body, h('div', { class: 'table-wrap' }, h('table', { class: 'table events' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Event'), h('th', {}, 'Type'), h('th', {}, 'Deliveries'), h('th', { class: 'num' }, 'Occurred'))),
        tbody)));
    }
    tbody.append(...list.map(row));
    body.querySelector('.more')?.remove();
    if (result.next) {
      const more = h('button', { class: 'btn more', type: 'button' }, 'Load older events');
      more.addEventListener('click', () => { more.disabled = true; more.textContent = 'Loading…'; loadPage(result.next); });
      body.append(h('div', { class: 'more' }, more));
    }
  }
  loadPage();
}
