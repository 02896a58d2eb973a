// A card of the Questions page: the question's answer form (answerForm.js) under a heading
// that tells it from its neighbours — the supervisor's title, owner and machine, how long
// ago it was asked and what its deadline, reminder and escalation are at.
//
// A card's `data-status` says where its answer is: `pending`, `sending`, `answered` (the
// ack came; `data-version` holds its version) or `gone` (answered or withdrawn elsewhere).
// Only a pending card can be answered; the page removes the others when it is safe to.

import { questionCard } from './answerForm.js';
import { el } from './dom.js';
import { audienceKey, audienceLabel, titleOf } from './inboxOrder.js';
import { askedWords, followUps } from './questionTimes.js';

let serial = 0;

/**
 * The card of `entry` (`{ supervisorId, question, view }`). `submit(value)` sends the answer
 * and returns the ack's promise; `onStatus()` runs whenever the card's status changes.
 */
export function inboxCard(entry, { submit, onStatus }) {
  const { supervisorId, question } = entry;
  const titleId = `inbox-title-${++serial}`;
  let item;
  const setStatus = (status) => {
    item.dataset.status = status;
    onStatus();
  };
  const meta = el(
    'p',
    { class: 'meta' },
    `for ${audienceLabel(audienceKey(question.audience))} · question ${question.id}`,
  );
  item = questionCard(
    question,
    async (value) => {
      setStatus('sending');
      try {
        const ack = await submit(value);
        item.dataset.version = String(ack.version);
        setStatus('answered');
        return ack;
      } catch (error) {
        setStatus('pending');
        throw error;
      }
    },
    {
      meta,
      ackText: (ack) =>
        ack.duplicate ? `Already answered · v${ack.version}` : `Answered by you · v${ack.version}`,
    },
  );
  item.classList.add('inbox-card');
  item.dataset.supervisorId = supervisorId;
  item.dataset.status = 'pending';
  // Reached by j/k and by a click, not by Tab: Tab goes through the answer controls.
  item.setAttribute('tabindex', '-1');
  item.setAttribute('aria-labelledby', titleId);
  item.prepend(heading(entry, titleId));
  return item;
}

/** What a heading shows, but for the times that tick: when it differs, it is drawn again. */
const headingSignature = ({ supervisorId, question, view }) =>
  JSON.stringify([
    titleOf(supervisorId, view),
    view?.owner,
    view?.machineId,
    view?.phase,
    followUps(question).map((words) => words.kind),
  ]);

function heading(entry, titleId) {
  const { supervisorId, question, view } = entry;
  return el(
    'header',
    { class: 'from', 'data-signature': headingSignature(entry) },
    el(
      'h3',
      { class: 'title', id: titleId },
      el(
        'a',
        { href: `#/supervisors/${encodeURIComponent(supervisorId)}` },
        titleOf(supervisorId, view),
      ),
    ),
    el(
      'p',
      { class: 'about' },
      el('span', { class: 'card-owner' }, `owner ${view?.owner ?? '…'}`),
      el('span', { class: 'card-machine' }, `machine ${view?.machineId ?? '…'}`),
      view?.phase ? el('span', { class: 'card-phase' }, `phase ${view.phase}`) : null,
      el('span', { class: 'card-age' }, askedWords(question)),
      ...followUps(question).map(followUpBadge),
    ),
  );
}

const followUpBadge = ({ kind, text, due }) =>
  el('span', { class: 'follow-up', 'data-kind': kind, 'data-due': due ? 'true' : 'false' }, text);

/**
 * Draws the heading again when what it shows changed (the supervisor's row arrived, its
 * phase moved, a reminder came); otherwise leaves it, and the focus on its link, alone.
 */
export function refreshHeading(item, entry) {
  const current = item.querySelector(':scope > .from');
  if (current?.dataset.signature === headingSignature(entry)) return;
  current?.replaceWith(heading(entry, item.getAttribute('aria-labelledby')));
}

/** Rewrites the card's relative times; only text changes, so nothing on the page moves. */
export function refreshTimes(item, question, now = Date.now()) {
  const age = item.querySelector('.card-age');
  if (age) age.textContent = askedWords(question, now);
  const badges = item.querySelectorAll('.follow-up');
  followUps(question, now).forEach((words, i) => {
    const badge = badges[i];
    if (!badge) return;
    if (badge.textContent !== words.text) badge.textContent = words.text;
    badge.dataset.due = words.due ? 'true' : 'false';
  });
}

/** The question left the pending list without this card's answer: it cannot be answered. */
export function markGone(item) {
  if (item.dataset.status !== 'pending') return;
  item.dataset.status = 'gone';
  for (const control of item.querySelector('form')?.elements ?? []) control.disabled = true;
  const outcome = item.querySelector('.outcome');
  if (outcome) outcome.textContent = 'No longer waiting: answered or withdrawn elsewhere';
}

/** Whether the card's question can still be answered from it. */
export const isAnswerable = (item) => item.dataset.status === 'pending';
