// The fleet view: a table of supervisors from `GET /supervisors` with the fleet filters as
// form controls, in attention order (the server's, page after page), narrowed as a person
// types in the search box: at once among the rows loaded, then by the server's search over
// the whole fleet. Rows change, and move, in place as status and question frames arrive.

import { queryString } from './api.js';
import { debounce, el, say, stateBadge } from './dom.js';
import { heartbeatCell } from './fleetHeartbeat.js';
import { byAttention, matchesSearch, searchWords } from './fleetOrder.js';

const PAGE = 200;
/** Heartbeats and restoration counts travel in no frame: the table re-reads them this often. */
const REFRESH_MS = 30_000;
/** "3 s ago" must not stand still: the heartbeat cells are rewritten this often. */
const TICK_MS = 1_000;

/** Writes the heartbeat cell for `view`; called again each tick, so it reads the clock. */
function paintHeartbeat(cell, view) {
  const { text, stalled, title } = heartbeatCell(view);
  if (cell.textContent !== text) cell.textContent = text;
  cell.classList.toggle('stalled', stalled);
  cell.classList.toggle('empty', text === '–' || text === '');
  if (title) cell.title = title;
  else cell.removeAttribute('title');
}

/**
 * A cell naming its column in `data-label` (a narrow screen shows rows as labelled cards),
 * marked `empty` when there is nothing to say, so a card can leave it out.
 */
function cell(name, label, value) {
  const empty = value === null || value === undefined;
  return el('td', { class: empty ? `${name} empty` : name, 'data-label': label }, value ?? '–');
}

function row(view, pending) {
  const short = view.id.slice(0, 8);
  const heartbeat = el('td', { class: 'heartbeat', 'data-label': 'Heartbeat' });
  paintHeartbeat(heartbeat, view);
  return el(
    'tr',
    { 'data-supervisor-id': view.id, 'data-state': view.state },
    el(
      'td',
      { class: 'supervisor' },
      el('a', { href: `#/supervisors/${view.id}`, title: view.id }, view.title ?? short),
      view.title ? el('span', { class: 'short-id' }, short) : null,
    ),
    cell('machine-id', 'Machine', `${view.machineId} v${view.machineVersion}`),
    cell('owner', 'Owner', view.owner),
    el(
      'td',
      { class: 'state' },
      stateBadge(view.state),
      el('span', { class: 'state-value' }, view.stateValue),
    ),
    cell('phase', 'Phase', view.phase),
    cell('activity', 'Activity', view.activity),
    el(
      'td',
      { class: 'progress', 'data-label': 'Progress' },
      el('progress', {
        max: 100,
        value: view.progress,
        'aria-label': `progress of ${view.title ?? short}`,
      }),
      ` ${view.progress}%`,
    ),
    cell('number pending', 'Pending', pending),
    heartbeat,
    cell(
      view.restorationCount === 0 ? 'number restorations zero' : 'number restorations',
      'Restorations',
      view.restorationCount,
    ),
  );
}

export function createFleetView({ api, store, root }) {
  const form = root.querySelector('#fleet-filters');
  const search = root.querySelector('#fleet-search');
  const body = root.querySelector('#fleet-table tbody');
  const message = root.querySelector('#fleet-message');
  const more = root.querySelector('#fleet-more');
  /** Ids the server answered with, in its order (by id). */
  let shown = [];
  /**
   * id → { node, drawn }: the row drawn for each supervisor and what it was drawn from. A
   * re-sort moves nodes and a row is rebuilt only when what it shows changed, so a link a
   * person has focused survives reloads and frames about other supervisors.
   */
  const rows = new Map();
  let nextAfterId = null;
  let visible = false;
  let refreshTimer;
  let tickTimer;
  let loading = 0;
  let loadError = '';
  /** Frames named these supervisors, not loaded yet: the next load says if they match. */
  const unseen = new Set();
  /** Supervisors a load left out: frames about them wait for the periodic refresh. */
  const outside = new Set();

  function filters() {
    const data = new FormData(form);
    const minutes = Number(data.get('stuckMinutes'));
    return {
      state: data.get('state'),
      machineId: data.get('machineId'),
      owner: String(data.get('owner') ?? '').trim(),
      hasPendingQuestions: data.get('hasPendingQuestions'),
      stuckForMs: minutes > 0 ? Math.round(minutes * 60_000) : '',
    };
  }

  const filtering = () => Object.values(filters()).some((value) => value !== '' && value !== null);

  async function load({ append = false } = {}) {
    const ticket = ++loading;
    try {
      const query = queryString({
        ...filters(),
        search: search.value.trim(),
        order: 'attention',
        limit: PAGE,
        afterId: append ? nextAfterId : undefined,
      });
      const { supervisors } = await api.get(`/supervisors${query}`);
      if (ticket !== loading) return;
      store.loadRows(supervisors);
      const ids = supervisors.map((s) => s.id);
      if (!append) outside.clear();
      for (const id of unseen) if (!ids.includes(id)) outside.add(id);
      unseen.clear();
      shown = append ? [...shown, ...ids] : ids;
      nextAfterId = supervisors.length === PAGE ? (ids.at(-1) ?? null) : null;
      more.hidden = nextAfterId === null;
      loadError = '';
      render();
    } catch (error) {
      if (ticket !== loading) return;
      loadError = `${error.code}: ${error.message}`;
      say(message, loadError, true);
    }
  }

  // A row whose state changed may no longer match the filters, and a supervisor nobody
  // loaded yet may match them: both need the server's filters, asked once per burst.
  const reload = debounce(() => visible && load(), 500);
  // The search box narrows the loaded rows at once; the server's search, once typing pauses,
  // finds those of the whole fleet.
  const searchFleet = debounce(() => visible && load(), 300);

  function rowFor(view) {
    const pending = store.pendingQuestions(view.id).length;
    const drawn = JSON.stringify([view, pending]);
    const known = rows.get(view.id);
    if (known?.drawn === drawn) return known.node;
    const node = row(view, pending);
    rows.set(view.id, { node, drawn });
    return node;
  }

  /** Puts the matching rows in attention order, moving only the nodes out of place. */
  function render() {
    const words = searchWords(search.value);
    const loaded = shown.map((id) => store.view(id)).filter(Boolean);
    for (const id of rows.keys()) if (!shown.includes(id)) rows.delete(id);
    const matching = loaded.filter((view) => matchesSearch(view, words)).sort(byAttention);
    const wanted = matching.map(rowFor);
    const keep = new Set(wanted);
    for (const child of [...body.children]) if (!keep.has(child)) child.remove();
    wanted.forEach((node, i) => {
      if (body.children[i] !== node) body.insertBefore(node, body.children[i] ?? null);
    });
    if (!loadError) say(message, summary(loaded.length, matching.length, words.length > 0));
  }

  function summary(loaded, matching, searching) {
    const words = search.value.trim();
    if (searching && matching === 0) return `No supervisor matches “${words}”.`;
    if (loaded === 0) return 'No supervisor matches these filters.';
    if (!searching) return '';
    const more = nextAfterId === null ? '' : ' (more below)';
    return `${matching} ${matching === 1 ? 'supervisor matches' : 'supervisors match'} “${words}”${more}.`;
  }

  function tick() {
    for (const node of body.children) {
      const view = store.view(node.dataset.supervisorId);
      const cell = node.querySelector('td.heartbeat');
      if (view && cell) paintHeartbeat(cell, view);
    }
  }

  store.events.addEventListener('change', ({ detail }) => {
    if (!visible) return;
    const loaded = [...detail.ids].filter((id) => shown.includes(id));
    if (loaded.length === 0) return;
    const moved = loaded.some((id) => rows.get(id)?.node.dataset.state !== store.view(id)?.state);
    if (filtering() && moved) reload();
    render();
  });
  store.events.addEventListener('unknown', ({ detail }) => {
    if (outside.has(detail.id) || unseen.has(detail.id)) return;
    unseen.add(detail.id);
    reload();
  });

  search.addEventListener('input', () => {
    render();
    searchFleet();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });
  form.addEventListener('change', () => load());
  // Reset clears the controls after this event: load once they are cleared.
  form.addEventListener('reset', () => setTimeout(load));
  more.addEventListener('click', () => load({ append: true }));

  return {
    /** Fills the machine filter once the machines are known. */
    setMachines(machines) {
      const select = form.elements.machineId;
      const chosen = select.value;
      select.replaceChildren(
        el('option', { value: '' }, 'any'),
        ...machines.map((m) => el('option', { value: m.id }, m.id)),
      );
      select.value = chosen;
    },
    show() {
      visible = true;
      load();
      refreshTimer = setInterval(load, REFRESH_MS);
      tickTimer = setInterval(tick, TICK_MS);
    },
    hide() {
      visible = false;
      clearInterval(refreshTimer);
      clearInterval(tickTimer);
      reload.cancel();
      searchFleet.cancel();
    },
    /** After a reconnect: frames were missed, read the rows again. */
    refresh() {
      if (visible) load();
    },
  };
}
