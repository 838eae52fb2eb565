// ui.js - the shared pieces of every page: loading, empty, error and
// "not available" states, toasts, the dialog, and page headers.
import { h, clear } from './dom.js';
import { Unavailable } from './api.js';

export function pageHeader(title, subtitle, ...actions) {
  return h('header', { class: 'page-head' },
    h('div', {}, h('h1', {}, title), subtitle ? h('p', { class: 'page-sub' }, subtitle) : null),
    h('div', { class: 'page-actions' }, actions));
}

/* Grey placeholder rows while a list loads. */
export function loadingRows(n = 4, label = 'Loading') {
  return h('div', { class: 'skeleton', role: 'status', 'aria-label': label },
    Array.from({ length: n }, (_, i) => h('div', { class: ['skeleton-row', `w${i % 3}`] })));
}

export function emptyState(title, text, ...extra) {
  return h('div', { class: 'state state-empty' },
    h('div', { class: 'state-icon', 'aria-hidden': 'true' }, '○'),
    h('h2', {}, title), text ? h('p', {}, text) : null, extra);
}

/* An error box with a retry; "not available" when the server lacks the route. */
export function errorState(err, retry) {
  if (err instanceof Unavailable) {
    return h('div', { class: 'state state-unavailable' },
      h('div', { class: 'state-icon', 'aria-hidden': 'true' }, '◌'),
      h('h2', {}, 'Not available on this server'),
      h('p', {}, `This view needs ${err.route}, which this hookd does not have yet. Upgrade hookd to use it.`));
  }
  return h('div', { class: 'state state-error', role: 'alert' },
    h('div', { class: 'state-icon', 'aria-hidden': 'true' }, '!'),
    h('h2', {}, 'Could not load this'),
    h('p', {}, err.message || String(err)),
    retry ? h('button', { class: 'btn', type: 'button', onclick: retry }, 'Try again') : null);
}

let toastBox = null;
export function toast(text, tone = 'ok', ...extra) {
  if (!toastBox || !toastBox.isConnected) {
    toastBox = h('div', { class: 'toasts', 'aria-live': 'polite' });
    document.body.append(toastBox);
  }
  const t = h('div', { class: ['toast', `tone-${tone}`], role: tone === 'bad' ? 'alert' : 'status' }, h('span', {}, text), extra);
  toastBox.append(t);
  setTimeout(() => t.remove(), tone === 'bad' ? 8000 : 5000);
}

/* A modal dialog; resolves with the value of the button pressed (or null). */
export function dialog(title, body, buttons) {
  return new Promise((resolve) => {
    const d = h('dialog', { class: 'dialog', 'aria-labelledby': 'dialog-title' },
      h('h2', { id: 'dialog-title' }, title),
      h('div', { class: 'dialog-body' }, body),
      h('div', { class: 'dialog-actions' }, buttons.map((b) =>
        h('button', { class: ['btn', b.primary && 'btn-primary', b.danger && 'btn-danger'], type: 'button', value: b.value,
          onclick: () => { d.close(b.value); } }, b.label))));
    d.addEventListener('close', () => { d.remove(); resolve(d.returnValue || null); });
    document.body.append(d);
    d.showModal();
  });
}

export function confirmDialog(title, text, label, danger = false) {
  return dialog(title, h('p', {}, text), [
    { label: 'Cancel', value: 'cancel' },
    { label, value: 'ok', primary: !danger, danger },
  ]).then((v) => v === 'ok');
}

/* Runs an action from a button: disabled while it runs, errors as toasts. */
export async function busy(button, fn) {
  button.disabled = true;
  button.classList.add('is-busy');
  try {
    return await fn();
  } catch (err) {
    toast(err.message || String(err), 'bad');
    return undefined;
  } finally {
    button.disabled = false;
    button.classList.remove('is-busy');
  }
}

export function replace(el, ...children) {
  clear(el).append(...children.flat().filter(Boolean));
}
