// The machines view: each registered machine's statechart, with a badge on every state
// giving how many of the caller's supervisors are in it, and each state coloured by the
// median time supervisors stay there, slowest reddest (from `GET /machines/:id/counts`).

import {
  activeStateIds,
  diagramElement,
  formatDuration,
  loadDiagram,
  showCounts,
  showTimeInState,
} from './diagram.js';
import { debounce, el, say } from './dom.js';

export function createMachinesView({ api, store, root }) {
  const list = root.querySelector('#machines-list');
  const message = root.querySelector('#machines-message');
  let visible = false;
  /** machineId → { diagram, svg, table } of the cards on screen. */
  const cards = new Map();

  async function render() {
    try {
      const { machines } = await api.get('/machines');
      if (!visible) return;
      cards.clear();
      list.replaceChildren();
      say(message, machines.length === 0 ? 'No machine is registered.' : '');
      for (const machine of machines) {
        const diagram = await loadDiagram(api, machine.id, machine.version);
        if (!visible) return;
        const svg = diagramElement(diagram.svg);
        const total = el('p', { class: 'machine-total' });
        const table = el('table', { class: 'counts' });
        const title = `${machine.id} v${machine.version}`;
        list.append(
          el(
            'section',
            { class: 'machine', 'data-machine-id': machine.id },
            el('h3', {}, title),
            machine.description ? el('p', {}, machine.description) : null,
            total,
            el('div', { class: 'diagram' }, svg),
            table,
          ),
        );
        cards.set(machine.id, { diagram, svg, total, table });
        await count(machine.id);
      }
    } catch (error) {
      say(message, `${error.code ?? 'ERROR'}: ${error.message}`, true);
    }
  }

  async function count(machineId) {
    const card = cards.get(machineId);
    if (!card) return;
    const { total, stateValues, timeInState } = await api.get(
      `/machines/${encodeURIComponent(machineId)}/counts`,
    );
    // A supervisor counts once for each state it is in: its leaves and their ancestors.
    const byState = new Map();
    for (const [stateValue, n] of Object.entries(stateValues)) {
      for (const id of activeStateIds(card.diagram, stateValue)) {
        byState.set(id, (byState.get(id) ?? 0) + n);
      }
    }
    showCounts(card.svg, byState);
    // A stay is the leaf's: the state value names the leaf last.
    const medians = new Map();
    for (const [stateValue, median] of Object.entries(timeInState ?? {})) {
      const leaf = [...activeStateIds(card.diagram, stateValue)].at(-1);
      if (leaf) medians.set(leaf, median);
    }
    showTimeInState(card.svg, medians);
    card.total.textContent = `${total} supervisor${total === 1 ? '' : 's'}`;
    const rows = new Set([...Object.keys(stateValues), ...Object.keys(timeInState ?? {})]);
    card.table.replaceChildren(
      el(
        'tr',
        {},
        el('th', { scope: 'col' }, 'State'),
        el('th', { scope: 'col', class: 'number' }, 'Now'),
        el('th', { scope: 'col', class: 'number' }, 'Median stay'),
      ),
      ...[...rows]
        .sort((a, b) => (stateValues[b] ?? 0) - (stateValues[a] ?? 0) || a.localeCompare(b))
        .map((stateValue) => {
          const median = timeInState?.[stateValue];
          return el(
            'tr',
            { 'data-state-value': stateValue },
            el('td', {}, stateValue),
            el('td', { class: 'number' }, stateValues[stateValue] ?? 0),
            el('td', { class: 'number' }, median ? formatDuration(median.medianMs) : '–'),
          );
        }),
    );
  }

  // Frames do not say which machine a supervisor runs: count every card again, once a burst
  // of changes has settled.
  const recount = debounce(async () => {
    for (const machineId of cards.keys()) {
      if (!visible) return;
      await count(machineId).catch((error) => say(message, `${error.code}: ${error.message}`));
    }
  }, 1000);

  store.events.addEventListener('change', () => {
    if (visible) recount();
  });

  return {
    show() {
      visible = true;
      render();
    },
    hide() {
      visible = false;
      recount.cancel();
      list.replaceChildren();
      cards.clear();
    },
    refresh() {
      if (visible) recount();
    },
  };
}
