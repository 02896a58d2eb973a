// The page of one supervisor (`#/supervisors/<id>`): what it is doing, its statechart with
// the current states marked live, its pending questions with answer forms, and its journal.

import { questionCard } from './answerForm.js';
import { createControls } from './controls.js';
import {
  activeStateIds,
  diagramElement,
  loadDiagram,
  markStates,
  placedStateValue,
} from './diagram.js';
import { debounce, el, formatTime, say, stateBadge, syncKeyed } from './dom.js';
import { heartbeatCell } from './fleetHeartbeat.js';
import { createJournal, timeline } from './journal.js';

export function createSupervisorView({ api, store, answer, root }) {
  const title = root.querySelector('#supervisor-title');
  const message = root.querySelector('#supervisor-message');
  const summary = root.querySelector('#supervisor-summary');
  const diagramBox = root.querySelector('#supervisor-diagram');
  const questionsBox = root.querySelector('#supervisor-questions');
  const answerStatus = root.querySelector('#answer-status');
  const controls = createControls({
    api,
    box: root.querySelector('#supervisor-controls'),
    status: root.querySelector('#control-status'),
  });
  let id = null;
  let diagram = null;
  let svg = null;
  let journalState = null;
  // Older pages of the journal loaded by hand, and where the next older page starts; they
  // stay when the newest page is read again.
  let older = [];
  let olderBefore = null;
  let newest = { entries: [], nextBefore: null };
  let checkpoints = [];
  const journal = createJournal(
    root.querySelector('#supervisor-journal'),
    (entry) => {
      journalState = entry?.stateValue ?? null;
      markJournalState();
    },
    () => loadOlder(),
  );

  /** The newest page and the older ones, oldest first, each entry once. */
  function showJournal() {
    const byId = new Map([...older, ...newest.entries].map((entry) => [entry.id, entry]));
    const history = [...byId.values()].sort((a, b) => a.id - b.id);
    journal.setEntries(timeline(history, checkpoints));
    journal.setMore((older.length > 0 ? olderBefore : newest.nextBefore) !== null);
  }

  async function loadOlder() {
    const shownId = id;
    const before = older.length > 0 ? olderBefore : newest.nextBefore;
    if (before === null) return;
    try {
      const path = `/supervisors/${encodeURIComponent(shownId)}/journal?limit=50&before=${before}`;
      const page = await api.get(path);
      if (shownId !== id) return;
      older = [...older, ...page.entries];
      olderBefore = page.nextBefore;
      showJournal();
    } catch (error) {
      if (shownId === id) say(message, `${error.code ?? 'ERROR'}: ${error.message}`, true);
    }
  }

  async function load() {
    const shownId = id;
    try {
      const path = `/supervisors/${encodeURIComponent(shownId)}`;
      const [detail, kept, page] = await Promise.all([
        api.get(path),
        api.get(`${path}/checkpoints`),
        api.get(`${path}/journal?limit=50`),
      ]);
      if (shownId !== id) return;
      store.loadRows([detail.supervisor]);
      if (!diagram) await showDiagram(store.view(shownId));
      if (shownId !== id) return;
      checkpoints = kept.checkpoints;
      newest = page;
      render();
      showJournal();
      say(message, '');
    } catch (error) {
      if (shownId === id) say(message, `${error.code ?? 'ERROR'}: ${error.message}`, true);
    }
  }

  /** Without its diagram (a version no longer registered) the rest of the page still shows. */
  async function showDiagram(view) {
    try {
      const loaded = await loadDiagram(api, view.machineId, view.machineVersion);
      if (view.id !== id) return;
      diagram = loaded;
      svg = diagramElement(diagram.svg);
      diagramBox.replaceChildren(svg);
      markJournalState();
    } catch (error) {
      diagramBox.replaceChildren(
        el('p', { class: 'error' }, `No diagram: ${error.code ?? 'ERROR'}: ${error.message}`),
      );
    }
  }

  // The journal travels in no frame: read it again once a burst of changes settles.
  const reloadJournal = debounce(() => id && load(), 400);

  function render() {
    const view = store.view(id);
    if (!view) return;
    title.textContent = `Supervisor ${view.id}`;
    summary.replaceChildren(
      ...field('Machine', `${view.machineId} v${view.machineVersion}`),
      ...field('Owner', view.owner ?? '–'),
      ...field('State', stateBadge(view.state)),
      ...field('State value', el('code', { class: 'state-value-live' }, view.stateValue)),
      ...field('Phase', view.phase ?? '–'),
      ...field('Activity', view.activity ?? '–'),
      ...field(
        'Progress',
        el('progress', { max: 100, value: view.progress }),
        ` ${view.progress}%`,
      ),
      ...field('Version', view.version),
      ...heartbeatField(view),
      ...field('Restorations', view.restorationCount),
      ...(view.errorMessage ? field('Error', errorText(view.errorMessage, errorStack())) : []),
      ...field('In this state since', formatTime(view.stateEnteredAt)),
    );
    if (svg) {
      const placed = placedStateValue(diagram, view.state, view.stateValue);
      markStates(svg, activeStateIds(diagram, placed), 'active');
    }
    controls.render(view);
    renderQuestions();
  }

  /** The stack the newest `error` entry of the journal keeps, if any. */
  function errorStack() {
    const entry = newest.entries.find((e) => e.kind === 'error');
    return typeof entry?.payload?.stack === 'string' ? entry.payload.stack : null;
  }

  /** The error as a sentence; where it came from (its stack) folded away beneath it. */
  function errorText(message, stack) {
    const readable = el('span', { class: 'error-message' }, String(message));
    if (!stack) return readable;
    return el(
      'div',
      {},
      readable,
      el(
        'details',
        { class: 'error-stack' },
        el('summary', {}, 'Where it broke'),
        el('pre', { tabindex: 0 }, stack),
      ),
    );
  }

  /** The heartbeat as the fleet says it: only while work is in flight, amber when stalled. */
  function heartbeatField(view) {
    const { text, stalled, title: tooltip } = heartbeatCell(view);
    if (!text) return [];
    return field(
      'Last sign of life',
      el('span', { class: stalled ? 'stalled' : '', ...(tooltip ? { title: tooltip } : {}) }, text),
    );
  }

  function field(name, ...value) {
    return [el('dt', {}, name), el('dd', {}, ...value)];
  }

  function markJournalState() {
    if (!svg) return;
    markStates(svg, journalState ? activeStateIds(diagram, journalState) : new Set(), 'checkpoint');
  }

  /** Keeps the cards of questions still pending, so a half-typed answer is not lost. */
  function renderQuestions() {
    syncKeyed(questionsBox, store.pendingQuestions(id), {
      keyOf: (question) => question.id,
      make: card,
      emptyText: 'None.',
    });
  }

  function card(question) {
    const supervisorId = id;
    return questionCard(question, async (value) => {
      try {
        const ack = await answer(supervisorId, question.id, value);
        say(
          answerStatus,
          `${question.id}: ${ack.duplicate ? 'already answered' : 'answered'} (version ${ack.version})`,
        );
        return ack;
      } catch (error) {
        say(answerStatus, `${question.id}: ${error.code}: ${error.message}`, true);
        throw error;
      }
    });
  }

  store.events.addEventListener('change', ({ detail }) => {
    if (!id || !detail.ids.has(id)) return;
    render();
    reloadJournal();
  });

  return {
    show({ id: supervisorId }) {
      if (supervisorId !== id) {
        id = supervisorId;
        diagram = null;
        svg = null;
        journalState = null;
        older = [];
        olderBefore = null;
        newest = { entries: [], nextBefore: null };
        checkpoints = [];
        title.textContent = `Supervisor ${supervisorId}`;
        for (const box of [summary, diagramBox, questionsBox]) box.replaceChildren();
        journal.setEntries([]);
        journal.setMore(false);
        controls.reset(supervisorId);
        say(answerStatus, '');
      }
      load();
    },
    hide() {
      id = null;
      reloadJournal.cancel();
    },
    refresh() {
      if (id) load();
    },
  };
}
