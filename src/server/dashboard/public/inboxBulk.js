// "Answer all N with Yes/No" for identical confirm questions (same prompt, same machine) on
// the Questions page. A row answers the cards it counted when it was drawn and no other —
// a question that arrived since is not in it — and only after the person confirmed a
// dialog that names how many and which. Answers cannot be taken back, so there is no undo.

import { el } from './dom.js';
import { isAnswerable } from './inboxCard.js';

/**
 * The bulk rows in `box`. `cardOf(key)` finds a card in the list by its key. Call `draw`
 * with the groups of `identicalGroups` (entries carrying their `key`) only when the list is
 * settled, so that rows never appear or go under the pointer.
 */
export function createBulkAnswers(box, { cardOf }) {
  let drawn = '';

  function answerAll(group, keys, label, row) {
    const cards = keys.map(cardOf).filter((card) => card && isAnswerable(card));
    if (cards.length === 0) return;
    const titles = cards.map((card) => `• ${card.querySelector('.title')?.textContent ?? ''}`);
    const asked = [
      `Answer "${label}" to ${cards.length} questions "${group.prompt}" from machine ${group.machineId}?`,
      '',
      ...titles,
      '',
      'An answer cannot be taken back.',
    ].join('\n');
    if (!window.confirm(asked)) return;
    // Drawn afresh at the next settle, whatever came of these answers.
    drawn = '';
    for (const button of row.querySelectorAll('button')) button.disabled = true;
    row.querySelector('.bulk-outcome').textContent =
      `Sent "${label}" to ${cards.length} questions; each card shows its answer.`;
    for (const card of cards) card.querySelector(`button[data-value="${label}"]`)?.click();
  }

  function row(group) {
    const keys = group.entries.map((entry) => entry.key);
    const count = keys.length;
    const line = el(
      'div',
      { class: 'bulk-group', 'data-machine-id': group.machineId, 'data-count': count },
      el(
        'p',
        { class: 'bulk-what' },
        `${count} identical questions from machine ${group.machineId}: `,
        el('q', {}, group.prompt),
      ),
    );
    for (const label of ['Yes', 'No']) {
      const button = el(
        'button',
        { type: 'button', 'data-bulk': label },
        `Answer all ${count} with ${label}`,
      );
      button.addEventListener('click', () => answerAll(group, keys, label, line));
      line.append(button);
    }
    line.append(el('output', { class: 'bulk-outcome', role: 'status' }));
    return line;
  }

  return {
    draw(groups) {
      const signature = JSON.stringify(groups.map((g) => g.entries.map((e) => e.key)));
      if (signature === drawn) return;
      drawn = signature;
      box.replaceChildren(...groups.map(row));
    },
  };
}
