// Which supervisors the fleet table shows, and in what order. The server pages in attention
// order (`order=attention`) and searches the whole fleet; the page keeps the same order as
// frames move rows between groups, and narrows what it loaded at once as a person types.

/** Lower comes first. A state missing here (a newer server's) sorts with the running ones. */
const GROUP = Object.freeze({
  waiting_for_user: 0,
  failed: 1,
  initializing: 2,
  working: 2,
  waiting_for_tasks: 2,
  paused: 2,
  completed: 3,
  cancelled: 3,
});
const RUNNING = 2;
const FINISHED = 3;

const time = (value) => {
  const ms = new Date(value ?? 0).getTime();
  return Number.isNaN(ms) ? 0 : ms;
};

/**
 * Attention order: waiting for a person, then failed, then running, then finished. Who has
 * waited (or failed, or run) longest comes first in its group — the one a person should look
 * at next; among the finished, the newest, since the old ones are history.
 */
export function byAttention(a, b) {
  const group = (GROUP[a.state] ?? RUNNING) - (GROUP[b.state] ?? RUNNING);
  if (group !== 0) return group;
  const since = time(a.stateEnteredAt) - time(b.stateEnteredAt);
  if (since !== 0) return GROUP[a.state] === FINISHED ? -since : since;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The words of a search, lower-cased; a row must contain every one. */
export function searchWords(text) {
  return String(text).toLowerCase().split(/\s+/).filter(Boolean);
}

/** Whether the supervisor's id, title, owner, machine, state, phase or activity hold each word. */
export function matchesSearch(view, words) {
  if (words.length === 0) return true;
  const haystack = [
    view.id,
    view.title,
    view.owner,
    view.machineId,
    view.state,
    view.stateValue,
    view.phase,
    view.activity,
  ]
    .filter((field) => typeof field === 'string')
    .join('\n')
    .toLowerCase();
  return words.every((word) => haystack.includes(word));
}
