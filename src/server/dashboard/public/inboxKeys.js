// The Questions page's keys: j/k move the focus to the next/previous card that can still be
// answered, y/n answer the focused card's yes/no question, Enter sends the focused card's
// form. A key acts only on the card that has the focus, never on one the person has not
// brought into view, and never while they type in a field.

import { isAnswerable } from './inboxCard.js';

const TYPING = new Set(['INPUT', 'TEXTAREA', 'SELECT']);

const typingIn = (target) => TYPING.has(target?.tagName) || target?.isContentEditable === true;

/** The card holding the focus in `list`, or null. */
function focusedCard(list) {
  const card = document.activeElement?.closest?.('.inbox-card');
  return card && list.contains(card) ? card : null;
}

/**
 * Listens for the keys while `isActive()`; `onMoved()` runs after the focus moved to
 * another card (the page may then tidy the list away from the card now in focus).
 */
export function listenForInboxKeys({ list, isActive, onMoved }) {
  function move(step) {
    const cards = [...list.querySelectorAll('.inbox-card')];
    const from = cards.indexOf(focusedCard(list));
    const order = step > 0 ? cards.slice(from + 1) : cards.slice(0, Math.max(0, from)).reverse();
    const next = (from === -1 ? cards : order).find(isAnswerable);
    if (!next) return;
    for (const card of cards) card.setAttribute('tabindex', card === next ? '0' : '-1');
    next.focus();
    onMoved();
  }

  function confirmWith(card, label) {
    if (!card || !isAnswerable(card) || card.checkVisibility?.() === false) return;
    if (card.querySelector('form')?.dataset.kind !== 'confirm') return;
    card.querySelector(`button[data-value="${label}"]`)?.click();
  }

  document.addEventListener('keydown', (event) => {
    if (!isActive() || event.defaultPrevented) return;
    if (event.altKey || event.ctrlKey || event.metaKey || typingIn(event.target)) return;
    const card = focusedCard(list);
    switch (event.key) {
      case 'j':
        move(1);
        break;
      case 'k':
        move(-1);
        break;
      case 'y':
        confirmWith(card, 'Yes');
        break;
      case 'n':
        confirmWith(card, 'No');
        break;
      case 'Enter':
        // On a button or a link inside the card, Enter is theirs already.
        if (!card || event.target !== card || !isAnswerable(card)) return;
        // Only a form with a field has a submit of its own; yes/no and choices are buttons.
        if (!card.querySelector('form button[type="submit"]')) return;
        card.querySelector('form')?.requestSubmit();
        break;
      default:
        return;
    }
    event.preventDefault();
  });
}
