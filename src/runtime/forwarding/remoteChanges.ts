// The changes other nodes commit, for this node's subscribers: the journal is read after a
// cursor (woken by the NOTIFY a node sends after its commits, and polled as well), and the
// rows it names are compared with what was last told of them, as the host's own stream
// compares its commits. Supervisors this node acts for are left out: its own stream tells
// of them.
import type { Logger } from '../../logger.ts';
import {
  type ChangeFeedStore,
  type FeedEntry,
  type FeedView,
  JOURNAL_CHANNEL,
} from '../../persistence/changeFeed.ts';
import {
  type ChangeListener,
  type CommittedChange,
  type CommittedView,
  changesOf,
  viewOf,
} from '../commit/committedChanges.ts';
import type { Listen } from './callForwarder.ts';
import type { ChangeSource } from './forwardingHost.ts';
import { oneAtATime } from './oneAtATime.ts';

/** Options of the feed. */
export interface RemoteChangesOptions {
  store: ChangeFeedStore;
  listen: Listen;
  /** True for a supervisor this node acts for (its own stream tells of it). */
  isLocal(id: string): boolean;
  /** How often the journal is read without a NOTIFY; default 500 ms. */
  pollMs?: number;
  log: Logger;
}

/** An id skipped by the cursor may belong to a commit still under way; given up after this. */
const HOLE_LIFETIME_MS = 30_000;
const PAGE = 2_000;
/** A gap wider than this in the journal's ids is skipped, not waited for. */
const MAX_HOLES = 1_000;
/** How many supervisors' last views are kept; the oldest go first. */
const VIEWS_KEPT = 50_000;

/**
 * The least time between two NOTIFYs, and between two reads, of a node: what a change
 * waits at most for the next one, so that at high rates each covers many commits rather
 * than each commit costing every other node a read (bench/README.md, several nodes).
 */
const SPACING_MS = 25;

/** `work`'s result, once SPACING_MS has passed too. */
async function spaced<T>(work: Promise<T>): Promise<T> {
  const [result] = await Promise.all([work, new Promise((r) => setTimeout(r, SPACING_MS))]);
  return result;
}

const RESOLVING: Readonly<Record<string, 'answered' | 'withdrawn' | 'expired'>> = Object.freeze({
  question_answered: 'answered',
  question_withdrawn: 'withdrawn',
  question_expired: 'expired',
});

/** Tells this node's subscribers what the other nodes committed. */
export class RemoteChanges implements ChangeSource {
  readonly #options: RemoteChangesOptions;
  readonly #listeners = new Set<ChangeListener>();
  readonly #views = new Map<string, CommittedView>();
  /** Journal ids below the cursor not seen yet (a commit in flight), with when first missed. */
  readonly #holes = new Map<number, number>();
  #cursor = 0;
  #timer: NodeJS.Timeout | undefined;
  #unlisten: (() => Promise<void>) | undefined;
  /**
   * Wakes the other nodes' feeds after a commit of this node: one NOTIFY at a time, and one
   * more for all the commits made while it was on its way. A lost one only makes them
   * later: they poll.
   */
  readonly announce = oneAtATime(
    () => spaced(this.#options.store.notify()),
    () => {},
  );
  /** Reads what was journaled since the last read (one read at a time). */
  readonly read = oneAtATime(
    () => spaced(this.#readOnce()),
    (error) =>
      this.#options.log.warn({ err: error }, 'could not read the changes of the other nodes'),
  );

  constructor(options: RemoteChangesOptions) {
    this.#options = options;
  }

  /** Starts at the journal's head: what was committed before is in the rows already. */
  async start(): Promise<void> {
    this.#cursor = await this.#options.store.head();
    this.#unlisten = await this.#options.listen(JOURNAL_CHANNEL, () => this.read());
    this.#timer = setInterval(() => this.read(), this.#options.pollMs ?? 500);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#unlisten?.().catch(() => {});
  }

  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async #readOnce(): Promise<boolean> {
    const { store, isLocal } = this.#options;
    const entries = await store.after(this.#cursor, [...this.#holes.keys()], PAGE);
    this.#advance(entries);
    const bySupervisor = new Map<string, FeedEntry[]>();
    for (const entry of entries) {
      if (isLocal(entry.supervisorId)) continue;
      const list = bySupervisor.get(entry.supervisorId) ?? [];
      list.push(entry);
      bySupervisor.set(entry.supervisorId, list);
    }
    if (bySupervisor.size === 0) return entries.length === PAGE;
    const views = await store.views([...bySupervisor.keys()]);
    for (const view of views) this.#tell(view, bySupervisor.get(view.id) ?? []);
    return entries.length === PAGE;
  }

  /** Moves the cursor past what was read; the ids it skipped are holes, looked for again. */
  #advance(entries: readonly FeedEntry[]): void {
    const now = Date.now();
    for (const entry of entries) this.#holes.delete(entry.id);
    for (const [id, since] of this.#holes) {
      if (now - since > HOLE_LIFETIME_MS) this.#holes.delete(id);
    }
    let expected = this.#cursor + 1;
    for (const entry of entries) {
      if (entry.id <= this.#cursor) continue;
      // A jump of the identity (a crash skips its cached values) is not a commit in flight.
      if (entry.id - expected <= MAX_HOLES) {
        for (let id = expected; id < entry.id; id++) this.#holes.set(id, now);
      }
      expected = entry.id + 1;
      this.#cursor = entry.id;
    }
  }

  #tell(view: FeedView, entries: readonly FeedEntry[]): void {
    const known = this.#views.get(view.id) ?? null;
    // Restored (a failover, a restart, a manual resume): every pending question is asked
    // again, as the node that restored it tells its own subscribers. A restore is counted
    // on the row without a new version.
    const restored = entries.some((entry) => entry.kind === 'restored');
    if (known && (view.version < known.version || (view.version === known.version && !restored)))
      return;
    const before = known && restored ? { ...known, pendingQuestions: [] } : known;
    const changes = changesOf(before, { write: view, events: entries });
    if (!known || restored) changes.push(...resolvedByJournal(view, entries));
    this.#views.delete(view.id);
    this.#views.set(view.id, viewOf(view));
    if (this.#views.size > VIEWS_KEPT) {
      const oldest = this.#views.keys().next().value;
      if (oldest !== undefined) this.#views.delete(oldest);
    }
    for (const change of changes) {
      for (const listener of this.#listeners) {
        try {
          listener(change);
        } catch (error) {
          this.#options.log.warn({ err: error }, 'a listener of remote changes threw');
        }
      }
    }
  }
}

/**
 * First sight of a supervisor: nothing to compare with, so the questions its journal says
 * were resolved (and are not pending again) are told as resolved.
 */
function resolvedByJournal(view: FeedView, entries: readonly FeedEntry[]): CommittedChange[] {
  const pending = new Set(view.pendingQuestions.map((q) => q.id));
  const told = new Set<string>();
  const changes: CommittedChange[] = [];
  for (const entry of entries) {
    const resolution = RESOLVING[entry.kind];
    const questionId = (entry.payload as { questionId?: unknown } | null)?.questionId;
    if (!resolution || typeof questionId !== 'string') continue;
    if (pending.has(questionId) || told.has(questionId)) continue;
    told.add(questionId);
    changes.push({
      supervisorId: view.id,
      version: view.version,
      owner: view.owner,
      type: 'question.resolved',
      questionId,
      resolution,
    });
  }
  return changes;
}
