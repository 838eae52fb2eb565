// overview.js - the live view: deliveries per minute, failure rate and
// latency percentiles over the last hour (or day), and the endpoints that
// need attention. Refreshes every 10 seconds.
import { h, fmtMs, fmtRate, fmtCount, pill, rateTone } from './dom.js';
import { api } from './api.js';
import { drawChart, redrawOnResize } from './charts.js';
import { loadingRows, errorState, replace, emptyState } from './ui.js';

function tile(label, value, tone, sub) {
  return h('div', { class: 'tile' }, h('div', { class: 'tile-label' }, label),
    h('div', { class: ['tile-value', tone && `tone-text-${tone}`] }, value),
    sub ? h('div', { class: 'tile-sub' }, sub) : null);
}

function tiles(stats) {
  const t = stats.totals;
  const rate = t.attempts ? t.succeeded / t.attempts : null;
  return h('div', { class: 'tiles' },
    tile('Delivery attempts', fmtCount(t.attempts), null, stats.window === '24h' ? 'last 24 hours' : 'last hour'),
    tile('Success rate', fmtRate(rate), rateTone(rate), `${fmtCount(t.succeeded)} succeeded`),
    tile('Failed attempts', fmtCount(t.failed), t.failed ? 'bad' : null, t.attempts ? `${fmtRate(t.failed / t.attempts)} of attempts` : 'none'),
    tile('Latency p50', fmtMs(t.p50_ms)),
    tile('p95', fmtMs(t.p95_ms)),
    tile('p99', fmtMs(t.p99_ms)));
}

function chartCard(title, id) {
  const el = h('div', { class: 'chart', id });
  return { card: h('section', { class: 'card chart-card' }, h('h2', { class: 'card-title' }, title), el), el };
}

function drawAll(stats, charts) {
  const buckets = stats.buckets;
  const per = stats.bucket_seconds === 60 ? 'per minute' : `per ${Math.round(stats.bucket_seconds / 60)} minutes`;
  charts.volume.card.querySelector('.card-title').textContent = `Deliveries ${per}`;
  drawChart(charts.volume.el, { buckets, kind: 'bars', label: 'Delivery attempts per bucket', format: (v) => fmtCount(Math.round(v)),
    series: [{ key: 'succeeded', label: 'Succeeded', tone: 'ok' }, { key: 'failed', label: 'Failed', tone: 'bad' }] });
  drawChart(charts.failures.el, { buckets, kind: 'lines', label: 'Failure rate', max: 1, format: (v) => `${Math.round(v * 100)}%`,
    series: [{ value: (b) => (b.attempts ? b.failed / b.attempts : null), label: 'Failure rate', tone: 'bad' }] });
  drawChart(charts.latency.el, { buckets, kind: 'lines', label: 'Latency percentiles', format: (v) => (v === 0 ? '0' : fmtMs(v)),
    series: [{ key: 'p50_ms', label: 'p50', tone: 'accent' }, { key: 'p95_ms', label: 'p95', tone: 'warn' }, { key: 'p99_ms', label: 'p99', tone: 'bad' }] });
}

/* One line over the endpoints: how many, and what waits in their queues. */
function queueSummary(list) {
  const sum = (k) => list.reduce((t, e) => t + ((e.queue && e.queue[k]) || 0), 0);
  const disabled = list.filter((e) => e.status === 'disabled').length;
  return [`${list.length} endpoint${list.length === 1 ? '' : 's'}`, disabled ? `${disabled} disabled` : null,
    `${fmtCount(sum('pending'))} pending`, sum('failed') ? `${fmtCount(sum('failed'))} failed` : null,
    sum('disabled') ? `${fmtCount(sum('disabled'))} held` : null].filter(Boolean).join(' · ');
}

function attention(list) {
  const troubled = list.filter((e) => e.status === 'disabled' || (e.circuit && e.circuit !== 'closed') ||
    (e.health && e.health.hour && e.health.hour.success_rate !== null && e.health.hour.success_rate < 0.99));
  if (!troubled.length) {
    return emptyState('All endpoints healthy', list.length ? `${list.length} endpoint${list.length === 1 ? '' : 's'}, none disabled, failing or with an open circuit.` : 'No endpoints yet.');
  }
  return h('ul', { class: 'attention' }, troubled.map((e) => {
    const rate = e.health && e.health.hour ? e.health.hour.success_rate : null;
    return h('li', {},
      h('a', { class: 'url mono', href: '#/endpoints', title: e.webhook_url }, e.webhook_url),
      h('span', { class: 'pills' },
        e.status === 'disabled' ? pill('disabled', 'bad', e.disabled_reason) : null,
        e.circuit && e.circuit !== 'closed' ? pill(`circuit ${e.circuit}`, e.circuit === 'open' ? 'bad' : 'warn') : null,
        rate !== null && rate !== undefined ? pill(`${fmtRate(rate)} last hour`, rateTone(rate)) : null));
  }));
}

export function render(main, { params }, page) {
  const range = params.get('window') === '24h' ? '24h' : '1h';
  const updated = h('span', { class: 'live', hidden: true }, h('span', { class: 'live-dot' }), 'Live');
  const toggle = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Time window' },
    ['1h', '24h'].map((w) => h('a', { href: `#/overview?window=${w}`, class: range === w ? 'active' : null, 'aria-pressed': String(range === w) }, w === '1h' ? 'Last hour' : 'Last day')));
  const statsBox = h('div', { class: 'stats' }, loadingRows(3, 'Loading statistics'));
  const charts = { volume: chartCard('Deliveries per minute', 'chart-volume'), failures: chartCard('Failure rate', 'chart-failures'), latency: chartCard('Latency percentiles', 'chart-latency') };
  const queueLine = h('span', { class: 'card-note' });
  const attentionBox = h('section', { class: 'card' }, h('header', { class: 'card-head' }, h('h2', {}, 'Needs attention'), queueLine), h('div', {}, loadingRows(2)));
  main.append(
    h('header', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Overview'), h('p', { class: 'page-sub' }, 'Deliveries of this tenant, refreshed every 10 seconds. ', updated)), h('div', { class: 'page-actions' }, toggle)),
    statsBox, attentionBox);

  let stats = null;
  const stopResize = redrawOnResize(() => { if (stats && page.alive) drawAll(stats, charts); });
  const check = setInterval(() => { if (!page.alive) { stopResize(); clearInterval(check); } }, 1000);

  async function loadStats() {
    try {
      stats = await api.stats(range);
    } catch (err) {
      if (page.alive) {
        stats = null;
        replace(statsBox, errorState(err, loadStats));
        updated.hidden = true;
      }
      return;
    }
    if (!page.alive) return;
    if (!statsBox.querySelector('.charts')) {
      replace(statsBox, h('div', { class: 'tiles-slot' }), h('div', { class: 'charts' }, charts.volume.card, charts.failures.card, charts.latency.card));
    }
    replace(statsBox.querySelector('.tiles-slot'), tiles(stats));
    drawAll(stats, charts);
    updated.hidden = false;
    updated.lastChild.textContent = `Live · updated ${new Date().toLocaleTimeString()}`;
  }
  async function loadAttention() {
    try {
      const list = await api.endpoints();
      if (!page.alive) return;
      replace(attentionBox.lastChild, attention(list));
      queueLine.textContent = queueSummary(list);
    } catch (err) {
      if (page.alive) replace(attentionBox.lastChild, errorState(err, loadAttention));
    }
  }
  loadStats();
  loadAttention();
  page.every(10000, () => { loadStats(); loadAttention(); });
}
