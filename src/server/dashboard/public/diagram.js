// Statechart diagrams: fetched once per machine version, placed in the page, and marked
// with the states a supervisor (or a journal entry) is in. The SVG comes from the server's
// visualizer: every state is a `<g class="state …" data-state-id="…">` of its own.

import { queryString } from './api.js';
import { svgEl } from './dom.js';

const cache = new Map();

/**
 * The SVG text and JSON graph of a machine version (the newest when `version` is
 * undefined), fetched once per page.
 */
export function loadDiagram(api, machineId, version) {
  const key = `${machineId}@${version ?? 'latest'}`;
  let diagram = cache.get(key);
  if (!diagram) {
    const query = queryString({ version });
    const base = `/machines/${encodeURIComponent(machineId)}`;
    diagram = Promise.all([
      api.text(`${base}/diagram.svg${query}`),
      api.get(`${base}/graph.json${query}`),
    ]).then(([svg, graph]) => ({ svg, graph, byPath: nodesByPath(graph) }));
    diagram.catch(() => cache.delete(key));
    cache.set(key, diagram);
  }
  return diagram;
}

function nodesByPath(graph) {
  return new Map(graph.nodes.map((node) => [node.path.join('.'), node.id]));
}

/**
 * A live SVG element from the diagram's text. Parsed as XML, not assigned as HTML; scripts,
 * foreign objects and event-handler attributes are removed even though the visualizer
 * never writes them, so a diagram can only ever draw.
 */
export function diagramElement(svgText) {
  const doc = new DOMParser().parseFromString(svgText, 'image/svg+xml');
  if (doc.querySelector('parsererror') || doc.documentElement.localName !== 'svg') {
    throw new Error('the diagram is not a well-formed SVG');
  }
  for (const node of doc.querySelectorAll('script, foreignObject')) node.remove();
  for (const node of doc.querySelectorAll('*')) {
    for (const attribute of [...node.attributes]) {
      const value = attribute.value.trim().toLowerCase();
      if (attribute.name.toLowerCase().startsWith('on') || value.startsWith('javascript:')) {
        node.removeAttribute(attribute.name);
      }
    }
  }
  return document.importNode(doc.documentElement, true);
}

/** The dotted leaf paths of an XState state value (`;`-joined, it is a stored `stateValue`). */
export function statePaths(value, prefix = '') {
  if (typeof value === 'string') return [prefix + value];
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) =>
    child === undefined || (child && typeof child === 'object' && !Object.keys(child).length)
      ? [prefix + key]
      : statePaths(child, `${prefix}${key}.`),
  );
}

/**
 * The ids of the state nodes a stored state value makes active: each leaf path and every
 * prefix of it, looked up by path in the graph (so states with a custom `id` are found
 * too). The root is left out: it is always active and encloses the whole drawing.
 */
export function activeStateIds(diagram, stateValue) {
  const ids = new Set();
  for (const path of String(stateValue ?? '').split(';')) {
    if (!path) continue;
    const keys = path.split('.');
    for (let i = 1; i <= keys.length; i++) {
      const id = diagram.byPath.get(keys.slice(0, i).join('.'));
      if (id) ids.add(id);
    }
  }
  return ids;
}

const ENDED = new Set(['failed', 'cancelled', 'completed']);

/**
 * Where a supervisor is drawn: its stored state value, unless it ended (failed, cancelled)
 * without its machine entering the state tagged for that end (an action threw, say), and
 * the machine has such a state: then there. The server counts the Machines page by the
 * same rule (src/visualizer/placement.ts).
 */
export function placedStateValue(diagram, lifecycle, stateValue) {
  if (!ENDED.has(lifecycle)) return stateValue;
  const byId = new Map(diagram.graph.nodes.map((node) => [node.id, node]));
  const active = [...activeStateIds(diagram, stateValue)].map((id) => byId.get(id));
  if (active.some((node) => node?.lifecycle === lifecycle)) return stateValue;
  const tagged = diagram.graph.nodes.find((n) => n.lifecycle === lifecycle && n.path.length > 0);
  return tagged ? tagged.path.join('.') : stateValue;
}

/** Gives exactly the states in `ids` the class `className` (`active`, `checkpoint`). */
export function markStates(svg, ids, className) {
  for (const group of svg.querySelectorAll(`.state.${className}`)) {
    group.classList.remove(className);
  }
  for (const group of svg.querySelectorAll('[data-state-id]')) {
    if (ids.has(group.getAttribute('data-state-id'))) group.classList.add(className);
  }
}

/**
 * Puts a count in a circle at the top right corner of each state in `counts` (state node
 * id → number). The SVG must be in the document: positions come from the drawn boxes.
 */
export function showCounts(svg, counts) {
  for (const badge of svg.querySelectorAll('.count-badge')) badge.remove();
  for (const group of svg.querySelectorAll('[data-state-id]')) {
    const count = counts.get(group.getAttribute('data-state-id'));
    if (!count) continue;
    const outline = group.querySelector('.outline') ?? group;
    const box = outline.getBBox();
    const x = box.x + box.width - 4;
    const y = box.y + 4;
    const badge = svgEl('g', { class: 'count-badge' });
    badge.append(
      svgEl('title', {}, `${count} supervisor${count === 1 ? '' : 's'} here`),
      svgEl('circle', { cx: x, cy: y, r: 10 }),
      svgEl('text', { x, y: y + 4, 'text-anchor': 'middle' }, count),
    );
    group.append(badge);
  }
}

/** How a time reads at a glance: 850 ms, 12 s, 4 min, 3 h, 2 d. */
export function formatDuration(ms) {
  if (ms < 1000) return `${ms} ms`;
  const units = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ];
  const [size, unit] = units.find(([size]) => ms >= size);
  return `${Math.round(ms / size)} ${unit}`;
}

/**
 * Colours each state in `medians` (state node id → { medianMs, stays }) from pale yellow
 * (the quickest) to deep red (the slowest of this machine), and names the figure in the
 * state's tooltip. The scale is logarithmic: stays run from milliseconds to days.
 */
export function showTimeInState(svg, medians) {
  for (const group of svg.querySelectorAll('[data-state-id]')) {
    const outline = group.querySelector(':scope > .outline');
    group.classList.remove('heat');
    if (outline) outline.style.fill = '';
    group.querySelector(':scope > title.heat-title')?.remove();
  }
  const values = [...medians.values()].map((m) => Math.log10(Math.max(1, m.medianMs)));
  const low = Math.min(...values);
  const high = Math.max(...values);
  for (const group of svg.querySelectorAll('[data-state-id]')) {
    const median = medians.get(group.getAttribute('data-state-id'));
    const outline = group.querySelector(':scope > .outline');
    if (!median || !outline) continue;
    const share = high > low ? (Math.log10(Math.max(1, median.medianMs)) - low) / (high - low) : 1;
    // Hue 55 (yellow) to 0 (red), lightness 88 % to 62 %: dark text stays legible on all.
    outline.style.fill = `hsl(${Math.round(55 - 55 * share)} 90% ${Math.round(88 - 26 * share)}%)`;
    group.classList.add('heat');
    group.setAttribute('data-median-ms', String(median.medianMs));
    group.prepend(
      svgEl(
        'title',
        { class: 'heat-title' },
        `median ${formatDuration(median.medianMs)} here, over ${median.stays} stay${median.stays === 1 ? '' : 's'}`,
      ),
    );
  }
}
