// "Answer all N with Yes/No" for identical confirm questions (same prompt, same machine) on
// the Questions page. A row answers the cards it counted when it was drawn and no other —
// a question that arrived since is not in it — and only after the person confirmed a
// dialog that names how many and which. Its count follows those cards while the list is
// held (one answered or withdrawn meanwhile leaves the count), without moving the row.
// Answers cannot be taken back, so there is no undo.

import { el } from './dom.js';
import { isAnswerable } from './inboxCard.js';

/**
 * The bulk rows in `box`. `cardOf(key)` finds a card in the list by its key. Call `draw`
 * with the groups of `identicalGroups` (entries carrying their `key`) only when the list is
 * settled, so that rows never appear or go under the pointer.
 */
export function createBulkAnswers(box, { cardOf }) {
  let drawn = '';

  /** The cards of `keys` still on the list and still to answer. */
  const answerable = (keys) => keys.map(cardOf).filter((card) => card && isAnswerable(card));

  function answerAll(group, keys, label, row) {
    const cards = answerable(keys);
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

  /** The row's words for `count` of its cards still to answer. */
  function paint(line, group, count) {
    line.dataset.count = String(count);
    line.querySelector('.bulk-count').textContent =
      count === 0
        ? 'No identical question left'
        : `${count} identical ${count === 1 ? 'question' : 'questions'}`;
    for (const button of line.querySelectorAll('button[data-bulk]')) {
      button.textContent = `Answer all ${count} with ${button.dataset.bulk}`;
      if (count === 0) button.disabled = true;
    }
    line.title = count === 0 ? `every question "${group.prompt}" here has its answer` : '';
  }

  /** The rows drawn, with what each counted when it was drawn. */
  const rows = new Map();

  function row(group) {
    const keys = group.entries.map((entry) => entry.key);
    const line = el(
      'div',
      { class: 'bulk-group', 'data-machine-id': group.machineId },
      el(
        'p',
        { class: 'bulk-what' },
        el('span', { class: 'bulk-count' }),
        ` from machine ${group.machineId}: `,
        el('q', {}, group.prompt),
      ),
    );
    for (const label of ['Yes', 'No']) {
      const button = el('button', { type: 'button', 'data-bulk': label });
      button.addEventListener('click', () => answerAll(group, keys, label, line));
      line.append(button);
    }
    line.append(el('output', { class: 'bulk-outcome', role: 'status' }));
    rows.set(line, { group, keys });
    paint(line, group, keys.length);
    return line;
  }

  return {
    /** Brings each row's count to the cards it counted that are still answerable. */
    recount() {
      for (const [line, { group, keys }] of rows) {
        const count = answerable(keys).length;
        if (String(count) !== line.dataset.count) paint(line, group, count);
      }
    },
    draw(groups) {
      const signature = JSON.stringify(groups.map((g) => g.entries.map((e) => e.key)));
      if (signature === drawn) return;
      drawn = signature;
      rows.clear();
      box.replaceChildren(...groups.map(row));
    },
  };
}
