// Effects after commit, the project's central rule, in one place: what the outside can see
// or what starts happening follows from a commit, here, and nowhere else. Committed writes
// come in (in commit order); out go the changes to listeners (questions asked and resolved,
// statuses, finishes), the tasks the commit made durable are started, runtime events that
// had to wait are offered again, and finished supervisors leave memory.
import type { Logger } from '../logger.ts';
import {
  type ChangeListener,
  type CommittedChange,
  type CommittedView,
  changesOf,
  isTerminal,
  viewOf,
} from './commit/committedChanges.ts';
import type { CommittedWrite, SnapshotWriter } from './commit/snapshotWriter.ts';
import type { LiveSupervisors } from './live/liveSupervisors.ts';
import type { TaskRunner } from './taskRunner.ts';

/** What the effects of a commit reach. */
export interface AfterCommitDeps {
  lives: LiveSupervisors;
  runner: TaskRunner;
  writer: Pick<SnapshotWriter, 'forget'>;
  log: Logger;
}

/**
 * The effects of commits. It keeps, per supervisor, the view of its last commit: changes
 * are the difference between two committed views, never a live state.
 */
export class AfterCommit {
  readonly #deps: AfterCommitDeps;
  readonly #views = new Map<string, CommittedView>();
  readonly #listeners = new Set<ChangeListener>();

  constructor(deps: AfterCommitDeps) {
    this.#deps = deps;
  }

  /** The writer's output: every committed write, in commit order. */
  committed(writes: readonly CommittedWrite[]): void {
    for (const committed of writes) {
      const { write } = committed;
      const changes = changesOf(this.#views.get(write.id) ?? null, committed);
      if (isTerminal(write.state)) {
        this.#views.delete(write.id);
        this.#release(write.id, write.version);
      } else {
        this.#views.set(write.id, viewOf(write));
      }
      this.emit(changes);
      const live = this.#deps.lives.get(write.id);
      if (!live) continue;
      if (committed.tasks.length > 0) this.#deps.runner.afterCommit(live, committed.tasks);
      live.retryWaiting();
    }
  }

  /** Tells every listener; one that throws is logged and stops nothing. */
  emit(changes: readonly CommittedChange[]): void {
    for (const change of changes) {
      for (const listener of this.#listeners) {
        try {
          listener(change);
        } catch (error) {
          this.#deps.log.error(
            { err: error, change: change.type },
            'a committed-change listener threw',
          );
        }
      }
    }
  }

  /** Whether anyone listens: with nobody, questions asked again reach no one. */
  get listened(): boolean {
    return this.#listeners.size > 0;
  }

  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The view of a supervisor's last commit known here. */
  view(id: string): CommittedView | undefined {
    return this.#views.get(id);
  }

  /** A supervisor comes into service with this last commit (a stored row), or none yet. */
  adopt(id: string, view: CommittedView | null): void {
    if (view) this.#views.set(id, viewOf(view));
    else this.#views.delete(id);
  }

  /**
   * Forgets the last commit of a supervisor that left memory idle (passivated): its row
   * says the same, and whoever needs it reads it there; it is adopted again when it comes
   * back.
   */
  forget(id: string): void {
    this.#views.delete(id);
  }

  /** Nothing is known any more of what was committed (the database was lost). */
  forgetAll(): void {
    this.#views.clear();
  }

  /** A finished supervisor leaves memory once its last snapshot is durable. */
  #release(id: string, version: number): void {
    const { lives, writer, runner } = this.#deps;
    const live = lives.get(id);
    if (!live || live.version !== version || !live.isFinished()) return;
    lives.remove(id);
    writer.forget(id);
    runner.stopAll(id);
    live.stop();
  }
}
