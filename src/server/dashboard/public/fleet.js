// The fleet view: a table of supervisors from `GET /supervisors` with the fleet filters as
// form controls. Rows change in place as status and question frames arrive.

import { queryString } from './api.js';
import { debounce, el, formatAgo, formatTime, say, stateBadge } from './dom.js';

const PAGE = 200;
/** Heartbeats and restoration counts travel in no frame: the table re-reads them this often. */
const REFRESH_MS = 30_000;

export function createFleetView({ api, store, root }) {
  const form = root.querySelector('#fleet-filters');
  const body = root.querySelector('#fleet-table tbody');
  const message = root.querySelector('#fleet-message');
  const more = root.querySelector('#fleet-more');
  /** Ids in the table, in the server's order. */
  let shown = [];
  let nextAfterId = null;
  let visible = false;
  let refreshTimer;
  let loading = 0;
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
      render();
      say(message, shown.length === 0 ? 'No supervisor matches these filters.' : '');
    } catch (error) {
      if (ticket === loading) say(message, `${error.code}: ${error.message}`, true);
    }
  }

  // A row whose state changed may no longer match the filters, and a supervisor nobody
  // loaded yet may match them: both need the server's filters, asked once per burst.
  const reload = debounce(() => visible && load(), 500);

  function render() {
    body.replaceChildren(...shown.map((id) => row(store.view(id))).filter(Boolean));
  }

  function row(view) {
    if (!view) return null;
    const pending = store.pendingQuestions(view.id).length;
    return el(
      'tr',
      { 'data-supervisor-id': view.id, 'data-state': view.state },
      el(
        'td',
        {},
        el('a', { href: `#/supervisors/${view.id}`, title: view.id }, view.id.slice(0, 8)),
      ),
      el('td', {}, `${view.machineId} v${view.machineVersion}`),
      el('td', {}, view.owner ?? '–'),
      el(
        'td',
        { class: 'state' },
        stateBadge(view.state),
        el('span', { class: 'state-value' }, view.stateValue),
      ),
      el('td', {}, view.phase ?? '–'),
      el('td', {}, view.activity ?? '–'),
      el(
        'td',
        {},
        el('progress', { max: 100, value: view.progress, title: `${view.progress}%` }),
        ` ${view.progress}%`,
      ),
      el('td', { class: 'number pending' }, pending),
      el('td', { title: formatTime(view.lastHeartbeat) }, formatAgo(view.lastHeartbeat)),
      el('td', { class: 'number' }, view.restorationCount),
    );
  }

  store.events.addEventListener('change', ({ detail }) => {
    if (!visible) return;
    for (const id of detail.ids) {
      const current = body.querySelector(`tr[data-supervisor-id="${CSS.escape(id)}"]`);
      if (!current) continue;
      const view = store.view(id);
      if (filtering() && current.getAttribute('data-state') !== view.state) reload();
      current.replaceWith(row(view));
    }
  });
  store.events.addEventListener('unknown', ({ detail }) => {
    if (outside.has(detail.id) || unseen.has(detail.id)) return;
    unseen.add(detail.id);
    reload();
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
    },
    hide() {
      visible = false;
      clearInterval(refreshTimer);
      reload.cancel();
    },
    /** After a reconnect: frames were missed, read the rows again. */
    refresh() {
      if (visible) load();
    },
  };
}
