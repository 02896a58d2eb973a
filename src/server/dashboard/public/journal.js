// A supervisor's journal and checkpoints as one timeline, stepped through with previous and
// next, a slider, or played. Selecting an entry hands it to `onSelect`, whose state value
// (kept with every entry since the journal records it) the diagram shows.

import { statePaths } from './diagram.js';
import { el, formatTime } from './dom.js';

/** Journal entries (oldest first) and checkpoints (newest first) merged by time. */
export function timeline(history, checkpoints) {
  const entries = [
    ...history.map((event) => ({
      key: `event-${event.id}`,
      kind: event.kind,
      at: event.createdAt,
      version: event.version,
      payload: event.payload,
      stateValue: event.stateValue ?? null,
    })),
    ...checkpoints.map((checkpoint) => {
      const stateValue = statePaths(checkpoint.snapshot?.value).join(';');
      return {
        key: `checkpoint-${checkpoint.version}`,
        kind: 'checkpoint',
        at: checkpoint.createdAt,
        version: checkpoint.version,
        payload: {
          phase: checkpoint.phase,
          machineVersion: checkpoint.machineVersion,
          stateValue,
          snapshot: checkpoint.snapshot,
        },
        stateValue,
      };
    }),
  ];
  return entries.sort(
    (a, b) =>
      String(a.at).localeCompare(String(b.at)) ||
      (a.version ?? -1) - (b.version ?? -1) ||
      (a.kind === 'checkpoint') - (b.kind === 'checkpoint'),
  );
}

/**
 * The timeline widget in `root`; `onSelect(entry | null)` runs when the selection moves,
 * `onLoadMore()` when the reader asks for older entries (see `setMore`).
 */
export function createJournal(root, onSelect, onLoadMore = () => {}) {
  const previous = el('button', { type: 'button', class: 'previous' }, '◀ Previous');
  const next = el('button', { type: 'button', class: 'next' }, 'Next ▶');
  const play = el('button', { type: 'button', class: 'play' }, 'Play');
  const position = el('span', { class: 'position' });
  const more = el('button', { type: 'button', class: 'load-more', hidden: '' }, 'Load older');
  const slider = el('input', {
    type: 'range',
    class: 'replay',
    min: 0,
    max: 0,
    value: 0,
    'aria-label': 'Replay the journal: entry shown',
  });
  const list = el('ol');
  const detail = el('div', { class: 'entry' });
  root.replaceChildren(
    el('div', { class: 'steps' }, previous, ' ', position, ' ', next, ' ', play, ' ', more),
    slider,
    list,
  );
  root.append(detail);

  let entries = [];
  let index = -1;
  let playing;

  function select(i) {
    index = entries.length === 0 ? -1 : Math.max(0, Math.min(entries.length - 1, i));
    render();
    onSelect(entries[index] ?? null);
  }

  /** Plays from the entry shown (the first, when at the end) to the newest, then stops. */
  function toggle() {
    if (playing) return stop();
    if (index >= entries.length - 1) select(0);
    play.textContent = 'Pause';
    playing = setInterval(() => {
      if (index >= entries.length - 1) stop();
      else select(index + 1);
    }, 800);
  }

  function stop() {
    clearInterval(playing);
    playing = undefined;
    play.textContent = 'Play';
  }

  function render() {
    previous.disabled = index <= 0;
    next.disabled = index >= entries.length - 1;
    play.disabled = entries.length < 2;
    slider.max = String(Math.max(0, entries.length - 1));
    slider.value = String(Math.max(0, index));
    slider.disabled = entries.length < 2;
    position.textContent = entries.length === 0 ? 'empty' : `${index + 1} of ${entries.length}`;
    list.replaceChildren(
      ...entries.map((entry, i) => {
        const item = el(
          'li',
          { 'data-kind': entry.kind, 'aria-current': i === index ? 'true' : 'false' },
          `${formatTime(entry.at)} · ${entry.kind}`,
          entry.version === null ? null : ` · v${entry.version}`,
          byWhom(entry) ? ` · by ${byWhom(entry)}` : null,
        );
        item.addEventListener('click', () => select(i));
        return item;
      }),
    );
    // Scrolls the list only: the page must not jump when a live entry is selected.
    const item = list.children[index];
    if (item) list.scrollTop = item.offsetTop - list.clientHeight / 2;
    const entry = entries[index];
    detail.replaceChildren(
      ...(entry
        ? [
            el(
              'dl',
              { class: 'summary' },
              el('dt', {}, 'Kind'),
              el('dd', { class: 'kind' }, entry.kind),
              el('dt', {}, 'Time'),
              el('dd', {}, formatTime(entry.at)),
              el('dt', {}, 'Version'),
              el('dd', {}, entry.version ?? '–'),
              el('dt', {}, 'State'),
              entry.stateValue === null
                ? el(
                    'dd',
                    { class: 'state-unknown' },
                    'not recorded for this entry: the statechart shows no state for it',
                  )
                : el('dd', { class: 'entry-state' }, entry.stateValue),
              ...(byWhom(entry) ? [el('dt', {}, 'By'), el('dd', {}, byWhom(entry))] : []),
            ),
            el('pre', { class: 'payload', tabindex: 0 }, JSON.stringify(entry.payload, null, 2)),
          ]
        : []),
    );
  }

  previous.addEventListener('click', () => select(index - 1));
  next.addEventListener('click', () => select(index + 1));
  play.addEventListener('click', () => toggle());
  slider.addEventListener('input', () => {
    stop();
    select(Number(slider.value));
  });
  more.addEventListener('click', () => onLoadMore());

  return {
    /** Whether older entries are there to load: shows the "Load older" button. */
    setMore(hasMore) {
      more.hidden = !hasMore;
    },
    /** New entries; the selection stays on its entry, or follows the newest if it was there. */
    setEntries(newEntries) {
      const current = entries[index]?.key;
      const atEnd = index === entries.length - 1;
      entries = newEntries;
      const kept = entries.findIndex((entry) => entry.key === current);
      select(atEnd || kept < 0 ? entries.length - 1 : kept);
    },
  };
}

/** Who did what an entry records: the token that asked, or who answered. */
function byWhom(entry) {
  const payload = entry.payload ?? {};
  if (typeof payload.answeredBy === 'string') return payload.answeredBy;
  const by = payload.by;
  if (!by || typeof by !== 'object') return null;
  return by.owner ?? by.name ?? null;
}
