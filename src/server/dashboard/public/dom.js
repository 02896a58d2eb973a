// DOM helpers. Every text goes in through textContent or an attribute, never as markup,
// so nothing a supervisor or a person typed can become HTML.

/**
 * Creates an element: `el('td', { class: 'number' }, '3')`. Attributes whose value is
 * null, undefined or false are left out; children are nodes or text.
 */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  setAttributes(element, attributes);
  for (const child of children) {
    if (child === null || child === undefined) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Like `el`, in the SVG namespace. */
export function svgEl(tag, attributes = {}, text) {
  const element = document.createElementNS('http://www.w3.org/2000/svg', tag);
  setAttributes(element, attributes);
  if (text !== undefined) element.textContent = String(text);
  return element;
}

function setAttributes(element, attributes) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
}

/** A time as the reader's locale writes it; `–` when there is none. */
export function formatTime(value) {
  if (!value) return '–';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

/** How long ago a time was, in words short enough for a table cell. */
export function formatAgo(value, now = Date.now()) {
  if (!value) return 'never';
  const seconds = Math.round((now - new Date(value).getTime()) / 1000);
  if (!Number.isFinite(seconds)) return String(value);
  if (seconds < 60) return `${Math.max(0, seconds)} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

/** A lifecycle state as a small coloured label. */
export function stateBadge(state) {
  return el('span', { class: 'state-badge', 'data-state': state }, state);
}

/** Runs `fn` once, `ms` after the last of a burst of calls. */
export function debounce(fn, ms) {
  let timer;
  const call = () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
  call.cancel = () => clearTimeout(timer);
  return call;
}

/** Shows a message in a status line, marked as an error or not. */
export function say(element, text, isError = false) {
  element.textContent = text;
  element.classList.toggle('error', isError);
}

/**
 * Makes `wanted` the children of `parent`, in order, touching only what differs: a node
 * already in place is not moved, so a person typing in it keeps the focus.
 */
function syncChildren(parent, wanted) {
  const keep = new Set(wanted);
  for (const child of [...parent.children]) if (!keep.has(child)) child.remove();
  wanted.forEach((node, i) => {
    if (parent.children[i] !== node) parent.insertBefore(node, parent.children[i] ?? null);
  });
}

/**
 * Shows one node per item in `parent`, keyed by `keyOf(item)` (kept in `data-key`): a node
 * already there for its key stays, passed through `update`, so whatever a person typed in
 * it survives; a new one comes from `make`. With no items, a line saying `emptyText`.
 */
export function syncKeyed(parent, items, { keyOf, make, update = (node) => node, emptyText }) {
  const existing = new Map(
    [...parent.children].filter((n) => n.dataset.key).map((n) => [n.dataset.key, n]),
  );
  const wanted = items.map((item) => {
    const key = keyOf(item);
    const node = existing.get(key);
    if (node) return update(node, item);
    const made = make(item);
    made.dataset.key = key;
    return made;
  });
  if (items.length === 0) wanted.push(el('p', { class: 'none' }, emptyText));
  syncChildren(parent, wanted);
}
