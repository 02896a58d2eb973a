// The questions view (`#/questions`): every question pending for this token, across the
// fleet, most urgent first, each with its answer form — the inbox of a person who answers.
// The subscription sends every pending question when it starts and each new one when it
// is committed, so the list needs no request of its own and changes only from frames.
//
// Nothing moves under the pointer. While the pointer is over the inbox (or the focus is on
// a card that was just answered, or an answer is on its way) the list is *held*: an
// answered card stays where it was, marked with its version; a card answered elsewhere
// stays, disabled; a new card is added at the end, below every card the person can see.
// The list *settles* — answered cards go, new ones take their place by urgency — as soon
// as nothing holds it: the pointer leaves, the focus moves on, a filter changes.

import { el, syncKeyed } from './dom.js';
import { createBulkAnswers } from './inboxBulk.js';
import { inboxCard, isAnswerable, markGone, refreshHeading, refreshTimes } from './inboxCard.js';
import { listenForInboxKeys } from './inboxKeys.js';
import {
  audienceLabel,
  byUrgency,
  entryKey,
  filterChoices,
  identicalGroups,
  matchesFilters,
} from './inboxOrder.js';

/** How often ages and countdowns are rewritten. */
const TICK_MS = 1_000;

export function createQuestionsView({ api, store, root, answer }) {
  const inbox = root.querySelector('#questions-inbox');
  const list = root.querySelector('#questions-list');
  const held = root.querySelector('#questions-held');
  const filtersForm = root.querySelector('#questions-filters');
  const badge = document.querySelector('#questions-count');
  let visible = false;
  let ticker;
  /** `keyboard` or `pointer`: how the person last acted on the page. */
  let lastInput = 'pointer';
  /** Where the pointer last was, in viewport coordinates; null when it left the page. */
  let pointer = null;
  /** Supervisors whose rows were asked for, once each: a card names its supervisor. */
  const requested = new Set();
  /**
   * Questions answered from this page whose cards have gone: kept out of the list until
   * the store drops them too (the ack and the `question.resolved` frame come in any order).
   */
  const answeredHere = new Set();
  /** The question each card shows, for its times. */
  const questionOfCard = new WeakMap();

  const cardOf = (key) => [...list.children].find((node) => node.dataset.key === key);
  const bulk = createBulkAnswers(root.querySelector('#questions-bulk'), { cardOf });

  function requestRow(supervisorId) {
    if (store.view(supervisorId) || requested.has(supervisorId)) return;
    requested.add(supervisorId);
    api
      .get(`/supervisors/${encodeURIComponent(supervisorId)}`)
      .then(({ supervisor }) => store.loadRows([supervisor]))
      .catch(() => {});
  }

  function entries() {
    return store.allPendingQuestions().map(({ supervisorId, question }) => {
      requestRow(supervisorId);
      const key = entryKey(supervisorId, question.id);
      return { key, supervisorId, question, view: store.view(supervisorId) };
    });
  }

  /**
   * By geometry, not by `:hover`: Chrome can leave `:hover` stale, under load, when the
   * element under the pointer was disabled or replaced, and a stale "not hovered" would
   * let a card move under the pointer. `:hover` covers a pointer that has not moved yet.
   */
  function pointerOverInbox() {
    if (!pointer) return inbox.matches(':hover');
    const box = inbox.getBoundingClientRect();
    return (
      pointer.x >= box.left &&
      pointer.x <= box.right &&
      pointer.y >= box.top &&
      pointer.y <= box.bottom
    );
  }

  /**
   * What holds the list in place; see the top of this file. The focus holds it only for a
   * person on the keyboard: a click leaves the focus in the card it answered, and the
   * pointer moving away is then what says they moved on.
   */
  function isHeld() {
    if (pointerOverInbox()) return true;
    if (list.querySelector('[data-status="sending"]')) return true;
    if (lastInput !== 'keyboard') return false;
    const focused = document.activeElement?.closest?.('.inbox-card');
    return Boolean(focused && list.contains(focused) && !isAnswerable(focused));
  }

  function make(entry) {
    const item = inboxCard(entry, {
      submit: (value) => answer(entry.supervisorId, entry.question.id, value),
      onStatus: () => render(undefined),
    });
    questionOfCard.set(item, entry.question);
    return item;
  }

  function filters() {
    const data = new FormData(filtersForm);
    return {
      machine: String(data.get('machine') ?? ''),
      owner: String(data.get('owner') ?? ''),
      audience: String(data.get('audience') ?? ''),
    };
  }

  /** The selects offer what the questions have; a chosen value stays even once unused. */
  function offerChoices(all) {
    const choices = filterChoices(all);
    for (const [name, values] of Object.entries(choices)) {
      const select = filtersForm.elements.namedItem(name);
      const chosen = select.value;
      const wanted = chosen && !values.includes(chosen) ? [chosen, ...values] : values;
      const have = [...select.options].slice(1).map((option) => option.value);
      if (JSON.stringify(have) === JSON.stringify(wanted)) continue;
      const label = name === 'audience' ? audienceLabel : (value) => value;
      select.replaceChildren(
        el('option', { value: '' }, 'any'),
        ...wanted.map((value) => el('option', { value }, label(value))),
      );
      select.value = chosen;
    }
  }

  /**
   * Brings the list up to the store: held, only additions at the end and marks; settled,
   * the pending questions that pass the filters, by urgency. The headings of `changed`
   * supervisors (all, when not given) are drawn again.
   */
  function render(changed) {
    const all = entries();
    badge.textContent = all.length > 0 ? String(all.length) : '';
    if (!visible) return;
    const pendingKeys = new Set(all.map((entry) => entry.key));
    for (const key of answeredHere) if (!pendingKeys.has(key)) answeredHere.delete(key);
    offerChoices(all);
    const chosen = filters();
    const wanted = all
      .filter((entry) => !answeredHere.has(entry.key) && matchesFilters(entry, chosen))
      .sort(byUrgency);
    const byKey = new Map(all.map((entry) => [entry.key, entry]));

    for (const node of list.querySelectorAll('.inbox-card')) {
      const entry = byKey.get(node.dataset.key);
      if (!entry) markGone(node);
      else if (!changed || changed.has(entry.supervisorId)) refreshHeading(node, entry);
      if (entry) questionOfCard.set(node, entry.question);
    }

    const holding = isHeld();
    const focused = document.activeElement;
    let items;
    if (holding) {
      const shown = [...list.querySelectorAll('.inbox-card')].map((node) => node.dataset.key);
      const onList = new Set(shown);
      const added = wanted.filter((entry) => !onList.has(entry.key));
      items = [...shown.map((key) => ({ key })), ...added];
      const waiting = added.length + list.querySelectorAll('[data-held="true"]').length;
      held.textContent = waiting
        ? `${waiting} new ${waiting === 1 ? 'question was' : 'questions were'} added at the end; the list is sorted again when the pointer leaves it.`
        : '';
    } else {
      for (const node of list.querySelectorAll('.inbox-card:not([data-status="pending"])')) {
        answeredHere.add(node.dataset.key);
      }
      items = wanted.filter((entry) => !answeredHere.has(entry.key));
      held.textContent = '';
    }
    const chosenAny = Object.values(chosen).some(Boolean);
    syncKeyed(list, items, {
      keyOf: (item) => item.key,
      make: (entry) => {
        const item = make(entry);
        if (holding) item.dataset.held = 'true';
        return item;
      },
      emptyText:
        chosenAny && all.length > 0
          ? 'No question matches these filters.'
          : 'No question is waiting.',
    });
    if (!holding) {
      for (const node of list.querySelectorAll('[data-held]')) delete node.dataset.held;
      bulk.draw(identicalGroups(items));
    }
    bulk.recount();
    // A card moved into its place loses the focus; it is given back.
    if (focused?.isConnected && document.activeElement !== focused) {
      focused.focus({ preventScroll: true });
    }
  }

  function tick() {
    const now = Date.now();
    for (const node of list.querySelectorAll('.inbox-card')) {
      const question = questionOfCard.get(node);
      if (question) refreshTimes(node, question, now);
    }
  }

  document.addEventListener('keydown', () => {
    lastInput = 'keyboard';
  });
  document.addEventListener('pointerdown', () => {
    lastInput = 'pointer';
  });
  store.events.addEventListener('change', ({ detail }) => render(detail.ids));
  // Captured, so that no element on the way can hide a move from the inbox.
  document.addEventListener(
    'pointermove',
    (event) => {
      const wasOver = visible && pointerOverInbox();
      pointer = { x: event.clientX, y: event.clientY };
      if (wasOver && !pointerOverInbox()) render(undefined);
    },
    { capture: true, passive: true },
  );
  document.documentElement.addEventListener('pointerleave', () => {
    pointer = { x: -1, y: -1 };
    if (visible) render(undefined);
  });
  // After the focus has landed, wherever it went: on a card, or nowhere.
  list.addEventListener('focusout', () => setTimeout(() => render(undefined), 0));
  filtersForm.addEventListener('change', () => render(undefined));
  listenForInboxKeys({ list, isActive: () => visible, onMoved: () => render(undefined) });

  return {
    show() {
      visible = true;
      render(undefined);
      clearInterval(ticker);
      ticker = setInterval(tick, TICK_MS);
    },
    hide() {
      visible = false;
      clearInterval(ticker);
    },
    refresh: () => render(undefined),
  };
}
