// The questions view (`#/questions`): every question pending for this token, across the
// fleet, oldest first, each with its answer form — the inbox of a person who answers.
// The subscription sends every pending question when it starts and each new one when it
// is committed, so the list needs no request of its own and changes only from frames.

import { questionCard } from './answerForm.js';
import { el, syncKeyed } from './dom.js';

export function createQuestionsView({ api, store, root, answer }) {
  const list = root.querySelector('#questions-list');
  const badge = document.querySelector('#questions-count');
  let visible = false;
  /** Supervisors whose rows were asked for, once each: a question's card names its machine. */
  const requested = new Set();

  const keyOf = (supervisorId, questionId) => `${supervisorId}\u0000${questionId}`;

  function heading(supervisorId) {
    const view = store.view(supervisorId);
    if (!view && !requested.has(supervisorId)) {
      requested.add(supervisorId);
      api
        .get(`/supervisors/${encodeURIComponent(supervisorId)}`)
        .then(({ supervisor }) => store.loadRows([supervisor]))
        .catch(() => {});
    }
    return el(
      'p',
      { class: 'from' },
      el('a', { href: `#/supervisors/${encodeURIComponent(supervisorId)}` }, supervisorId),
      view ? ` · ${view.machineId}${view.phase ? ` · ${view.phase}` : ''}` : null,
    );
  }

  function card(supervisorId, question) {
    const item = questionCard(question, (value) => answer(supervisorId, question.id, value));
    item.setAttribute('data-supervisor-id', supervisorId);
    item.prepend(heading(supervisorId));
    return item;
  }

  /** A kept card with its heading brought up to date (the phase may have moved). */
  function kept(item, supervisorId) {
    item.querySelector('.from')?.replaceWith(heading(supervisorId));
    return item;
  }

  /**
   * Keeps the cards of questions still pending, so a half-typed answer is not lost; the
   * headings of `changed` supervisors (all, when not given) are drawn again.
   */
  function render(changed) {
    const pending = store.allPendingQuestions();
    badge.textContent = pending.length > 0 ? String(pending.length) : '';
    if (!visible) return;
    syncKeyed(list, pending, {
      keyOf: ({ supervisorId, question }) => keyOf(supervisorId, question.id),
      make: ({ supervisorId, question }) => card(supervisorId, question),
      update: (node, { supervisorId }) =>
        !changed || changed.has(supervisorId) ? kept(node, supervisorId) : node,
      emptyText: 'No question is waiting.',
    });
  }

  store.events.addEventListener('change', ({ detail }) => render(detail.ids));

  return {
    show() {
      visible = true;
      render(undefined);
    },
    hide() {
      visible = false;
    },
    refresh: () => render(undefined),
  };
}
