// charts.js - small hand-drawn SVG charts over time buckets: stacked bars
// and lines, with axes, a legend and a hover readout. Drawn at the
// container's pixel width; redrawn when the window is resized.
import { h, svg, clear } from './dom.js';

const PAD = { top: 10, right: 12, bottom: 22, left: 44 };

/* A round axis maximum at or above max. */
function niceMax(max) {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hour12: false });

/* opts: { buckets, series: [{ key | value(b), label, tone }], kind: 'bars' | 'lines',
 *         format(v), height, max } */
export function drawChart(el, opts) {
  const { buckets, series, kind = 'lines', format = String, height = 160 } = opts;
  clear(el);
  el.classList.add('chart');
  const width = Math.max(240, el.clientWidth || 600);
  const value = (s, b) => (s.value ? s.value(b) : b[s.key]);
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const n = buckets.length;
  let max = opts.max;
  if (max === undefined) {
    max = 0;
    for (const b of buckets) {
      if (kind === 'bars') max = Math.max(max, series.reduce((t, s) => t + (value(s, b) || 0), 0));
      else for (const s of series) max = Math.max(max, value(s, b) || 0);
    }
    max = niceMax(max);
  }
  const x = (i) => PAD.left + (n <= 1 ? 0 : (i * plotW) / n);
  const step = n ? plotW / n : plotW;
  const y = (v) => PAD.top + plotH - (v / max) * plotH;

  const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': opts.label || 'chart' });
  for (const f of [0, 0.5, 1]) {
    const gy = y(max * f);
    root.append(svg('line', { class: 'grid', x1: PAD.left, x2: width - PAD.right, y1: gy, y2: gy }),
      svg('text', { class: 'axis', x: PAD.left - 6, y: gy + 4, 'text-anchor': 'end' }, format(max * f)));
  }
  const labelEvery = Math.max(1, Math.ceil(n / Math.max(2, Math.floor(plotW / 70))));
  buckets.forEach((b, i) => {
    if (i % labelEvery === 0) {
      root.append(svg('text', { class: 'axis', x: x(i) + step / 2, y: height - 6, 'text-anchor': 'middle' }, clock.format(new Date(b.start))));
    }
  });

  if (kind === 'bars') {
    const barW = Math.max(1, step - Math.min(3, step * 0.25));
    buckets.forEach((b, i) => {
      let base = 0;
      for (const s of series) {
        const v = value(s, b) || 0;
        if (v > 0) {
          root.append(svg('rect', { class: `bar tone-fill-${s.tone}`, x: x(i) + (step - barW) / 2, y: y(base + v), width: barW, height: Math.max(1, y(base) - y(base + v)) }));
        }
        base += v;
      }
    });
  } else {
    for (const s of series) {
      let d = '';
      let pen = false;
      buckets.forEach((b, i) => {
        const v = value(s, b);
        if (v === null || v === undefined || Number.isNaN(v)) { pen = false; return; }
        d += `${pen ? 'L' : 'M'}${(x(i) + step / 2).toFixed(1)},${y(Math.min(v, max)).toFixed(1)}`;
        pen = true;
      });
      if (d) root.append(svg('path', { class: `line tone-stroke-${s.tone}`, d }));
      // Lone points (a bucket between two empty ones) show as dots.
      buckets.forEach((b, i) => {
        const v = value(s, b);
        const prev = i > 0 ? value(s, buckets[i - 1]) : null;
        const next = i < n - 1 ? value(s, buckets[i + 1]) : null;
        if (v !== null && v !== undefined && (prev === null || prev === undefined) && (next === null || next === undefined)) {
          root.append(svg('circle', { class: `tone-fill-${s.tone}`, cx: x(i) + step / 2, cy: y(Math.min(v, max)), r: 2 }));
        }
      });
    }
  }

  // Hover readout: a guide line and the bucket's values.
  const guide = svg('line', { class: 'guide', x1: 0, x2: 0, y1: PAD.top, y2: PAD.top + plotH, visibility: 'hidden' });
  const tip = h('div', { class: 'chart-tip', hidden: true });
  const hit = svg('rect', { class: 'hit', x: PAD.left, y: PAD.top, width: plotW, height: plotH });
  hit.addEventListener('mousemove', (ev) => {
    const box = root.getBoundingClientRect();
    const i = Math.min(n - 1, Math.max(0, Math.floor((ev.clientX - box.left - PAD.left) / step)));
    const b = buckets[i];
    if (!b) return;
    const gx = x(i) + step / 2;
    guide.setAttribute('x1', gx);
    guide.setAttribute('x2', gx);
    guide.setAttribute('visibility', 'visible');
    clear(tip).append(h('div', { class: 'tip-time' }, clock.format(new Date(b.start))),
      ...series.map((s) => h('div', {}, h('span', { class: `dot tone-${s.tone}` }), `${s.label}: `,
        h('strong', {}, value(s, b) === null || value(s, b) === undefined ? '—' : format(value(s, b))))));
    tip.hidden = false;
    tip.style.left = `${Math.min(gx + 10, width - 150)}px`;
  });
  hit.addEventListener('mouseleave', () => { guide.setAttribute('visibility', 'hidden'); tip.hidden = true; });
  root.append(guide, hit);

  el.append(root, tip,
    h('div', { class: 'legend' }, series.map((s) => h('span', {}, h('span', { class: `dot tone-${s.tone}` }), s.label))));
}

/* Redraws every chart on resize (debounced); returns a stop function. */
export function redrawOnResize(fn) {
  let t = null;
  const handler = () => { clearTimeout(t); t = setTimeout(fn, 150); };
  window.addEventListener('resize', handler);
  return () => window.removeEventListener('resize', handler);
}
