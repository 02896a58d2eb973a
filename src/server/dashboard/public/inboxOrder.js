// What the Questions page shows and in which order, as plain functions of its entries (no
// DOM), so the rules can be tested in Node. An entry is `{ supervisorId, question, view }`:
// the question as the store holds it and its supervisor's view (undefined until its row
// has been read).

/** The key of a question across the fleet: question ids are unique per supervisor only. */
export const entryKey = (supervisorId, questionId) => `${supervisorId}\u0000${questionId}`;

const timeOf = (value) => {
  const ms = value ? Date.parse(value) : Number.NaN;
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
};

/**
 * Most urgent first: the soonest deadline, questions without one after every question
 * with one; then the oldest asked; then by key, so equal questions keep one order.
 */
export function byUrgency(a, b) {
  return (
    timeOf(a.question.deadline) - timeOf(b.question.deadline) ||
    timeOf(a.question.askedAt) - timeOf(b.question.askedAt) ||
    entryKey(a.supervisorId, a.question.id).localeCompare(entryKey(b.supervisorId, b.question.id))
  );
}

/** The audience as a filter value: `owner` or `role:<name>`. */
export function audienceKey(audience) {
  return audience?.kind === 'role' ? `role:${audience.role}` : 'owner';
}

/** The audience in words, for a card and a filter option. */
export function audienceLabel(key) {
  return key.startsWith('role:') ? `role ${key.slice('role:'.length)}` : 'the owner';
}

/**
 * True when the entry passes every filter that is set (`machine`, `owner`, `audience`;
 * an empty value lets everything through). An entry whose supervisor is not known yet
 * passes only the filters it can be judged on.
 */
export function matchesFilters(entry, filters) {
  if (filters.machine && entry.view?.machineId !== filters.machine) return false;
  if (filters.owner && entry.view?.owner !== filters.owner) return false;
  if (filters.audience && audienceKey(entry.question.audience) !== filters.audience) return false;
  return true;
}

/** The values each filter can take among `entries`, sorted, for the selects. */
export function filterChoices(entries) {
  const machine = new Set();
  const owner = new Set();
  const audience = new Set();
  for (const { view, question } of entries) {
    if (view?.machineId) machine.add(view.machineId);
    if (view?.owner) owner.add(view.owner);
    audience.add(audienceKey(question.audience));
  }
  const sorted = (set) => [...set].sort();
  return { machine: sorted(machine), owner: sorted(owner), audience: sorted(audience) };
}

/**
 * Confirm questions that are the same question to whoever answers them — the same prompt
 * from the same machine — two or more of a kind, in the order of `entries`. Each group is
 * `{ machineId, prompt, entries }`. Entries whose machine is not known yet stay out: they
 * cannot be shown to be identical.
 */
export function identicalGroups(entries) {
  const groups = new Map();
  for (const entry of entries) {
    if (entry.question.answer?.kind !== 'confirm' || !entry.view?.machineId) continue;
    const key = `${entry.view.machineId}\u0000${entry.question.prompt}`;
    let group = groups.get(key);
    if (!group) {
      group = { machineId: entry.view.machineId, prompt: entry.question.prompt, entries: [] };
      groups.set(key, group);
    }
    group.entries.push(entry);
  }
  return [...groups.values()].filter((group) => group.entries.length > 1);
}

/** How a card names its supervisor: its title, else its machine and the start of its id. */
export function titleOf(supervisorId, view) {
  if (view?.title) return view.title;
  const short = supervisorId.slice(0, 8);
  return view?.machineId ? `${view.machineId} ${short}` : `Supervisor ${short}`;
}
