// dom.js - building elements without innerHTML (every string from the API
// becomes a text node, never markup), and formatting numbers and times.

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    else if (name === 'text') el.textContent = value;
    else if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/* h('div', {class: 'x', onclick: fn}, 'text', otherNode) */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

export function svg(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });

/* "14:03:22" today, "Nov 23, 14:03:22" otherwise. */
export function fmtTime(ts) {
  if (!ts) return '—';
  const d = new Date(ts);
  return d.toDateString() === new Date().toDateString() ? timeFmt.format(d) : dateTimeFmt.format(d);
}

/* "12 s ago", "in 3 min". */
export function fmtAgo(ts, now = Date.now()) {
  if (!ts) return '—';
  const s = Math.round((now - new Date(ts).getTime()) / 1000);
  const a = Math.abs(s);
  let text;
  if (a < 5) return 'just now';
  if (a < 60) text = `${a} s`;
  else if (a < 3600) text = `${Math.round(a / 60)} min`;
  else if (a < 86400) text = `${Math.round(a / 3600)} h`;
  else text = `${Math.round(a / 86400)} d`;
  return s >= 0 ? `${text} ago` : `in ${text}`;
}

/* A time element: relative text, the exact time on hover. */
export function timeEl(ts, relative = true) {
  if (!ts) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: ts, title: new Date(ts).toString() + '\n' + ts }, relative ? fmtAgo(ts) : fmtTime(ts));
}

export function fmtMs(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 10) return `${Number(ms).toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

/* A success rate (0..1) as "99.5%"; null (no attempts) as "—". */
export function fmtRate(rate) {
  if (rate === null || rate === undefined) return '—';
  const pct = rate * 100;
  if (pct === 100 || pct === 0) return `${pct}%`;
  return `${pct >= 99.95 ? pct.toFixed(2) : pct.toFixed(1)}%`;
}

export function fmtCount(n) {
  return Number(n || 0).toLocaleString();
}

/* The tone of an HTTP status or an attempt: ok, warn, bad. */
export function statusTone(status, error) {
  if (status >= 200 && status < 300) return 'ok';
  if (status === null || status === undefined) return error ? 'bad' : 'muted';
  if (status >= 300 && status < 500 && status !== 408 && status !== 429) return 'warn';
  return 'bad';
}

export function rateTone(rate) {
  if (rate === null || rate === undefined) return 'muted';
  if (rate >= 0.99) return 'ok';
  if (rate >= 0.9) return 'warn';
  return 'bad';
}

export function pill(text, tone, title) {
  return h('span', { class: ['pill', `tone-${tone}`], title }, text);
}

/* Copies text, with a short confirmation on the button. */
export function copyButton(text, label = 'Copy') {
  const b = h('button', { class: 'btn btn-small', type: 'button' }, label);
  b.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text);
      b.textContent = 'Copied';
    } catch {
      b.textContent = 'Select and copy';
    }
    setTimeout(() => { b.textContent = label; }, 1500);
  });
  return b;
}
