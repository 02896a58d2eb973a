// Stored rows back into service: restore/ rebuilds each supervisor and hands it back, this
// puts it in service between the seed's steps (rebuild → admit → count → ask again →
// finish), and refuses what a lost database made stale.
import type { CommandOptions } from '../model/requester.ts';
import type { RestorationSource, SupervisorState } from '../model/supervisor.ts';
import type { AfterCommit } from './afterCommit.ts';
import { isTerminal } from './commit/committedChanges.ts';
import {
  alreadyExists,
  databaseUnavailable,
  notFinished,
  notFound,
  notRunning,
  terminated,
} from './hostErrors.ts';
import type { LiveSupervisor } from './live/liveSupervisor.ts';
import type { LiveSupervisors } from './live/liveSupervisors.ts';
import {
  askedAgain,
  countRestores,
  finishRestore,
  type Rebuilt,
  type RestorationInfo,
  type RestoreDeps,
  rebuild,
  resentQuestions,
  restoreInPages,
  takesNotice,
} from './restore/restoration.ts';
import { deferredPages, restorablePages } from './restore/restorePlan.ts';
import { type RetryRequest, rebuildForRetry } from './restore/retryPlan.ts';
import { isSupervisorId } from './storedReads.ts';
import type { TaskRunner } from './taskRunner.ts';

/** What putting restored supervisors in service reaches. */
export interface RestorerDeps extends RestoreDeps {
  lives: LiveSupervisors;
  effects: Pick<AfterCommit, 'adopt' | 'emit' | 'listened'>;
  runner: Pick<TaskRunner, 'resumeAfterRestore' | 'stopAll'>;
  /** Resolves once a version of a supervisor has committed (bounded: ERR_COMMIT_IN_DOUBT). */
  durable(id: string, version: number): Promise<void>;
}

/**
 * The outcome of restoring some rows: how many were restored (with the RestorationInfo of
 * each when it was asked for), and which were not, and why.
 */
interface RowsRestored {
  restored: number;
  infos: RestorationInfo[];
  failed: Array<{ id: string; error: unknown }>;
}

/** How #rows restores: asks questions again, informs (RestorationInfo), journals who asked. */
interface RowsOptions {
  askAgain?: boolean;
  /** The caller reads each RestorationInfo (otherwise made only for a machine taking it). */
  inform?: boolean;
  asked?: CommandOptions;
}

/**
 * Puts restored supervisors in service. It counts the losses of the database: a restore
 * begun before a loss admits nothing after it (what it rebuilt is stopped).
 */
export class Restorer {
  readonly #deps: RestorerDeps;
  #losses = 0;

  constructor(deps: RestorerDeps) {
    this.#deps = deps;
  }

  /** The database was lost: restores under way admit nothing more. */
  lost(): void {
    this.#losses++;
  }

  /**
   * One supervisor not in memory here, by id (a manual resume, say, journaled with who
   * asked and the idempotency key it came with; the reply is kept with that key).
   */
  async one(
    id: string,
    source: RestorationSource,
    asked: CommandOptions = {},
  ): Promise<RestorationInfo> {
    const live = this.#deps.lives.get(id);
    if (live && !live.isFinished()) throw alreadyExists(id, 'is already running here');
    const stored = isSupervisorId(id) ? await this.#deps.store.getSupervisor(id) : null;
    if (!stored) throw notFound(id);
    if (isTerminal(stored.state)) throw terminated(id, stored.state, ': nothing to restore');
    const { infos, failed } = await this.#rows([stored], source, this.#losses, {
      inform: true,
      asked,
    });
    const info = infos[0];
    if (!info) throw failed[0]?.error ?? new Error(`supervisor ${id} was not restored`);
    this.#deps.log.info(
      { supervisorId: id, source: info.source, restorationCount: info.restorationCount },
      'supervisor restored',
    );
    await this.#keepReply(id, asked, info);
    return info;
  }

  /**
   * Puts a failed or cancelled supervisor back to work (retryPlan.ts): refused for one that
   * completed (`ERR_SUPERVISOR_TERMINATED`) or has not finished (`ERR_SUPERVISOR_NOT_FINISHED`,
   * also while another retry of it is under way). Resolves once the snapshot it restarts
   * from has committed with its `retried` entry, and the restore is counted (`manual`).
   */
  async retry(id: string, request: RetryRequest): Promise<RestorationInfo> {
    const stored = isSupervisorId(id) ? await this.#deps.store.getSupervisor(id) : null;
    if (!stored) throw notFound(id);
    if (stored.state === 'completed') {
      throw terminated(id, stored.state, ': only a failed or cancelled supervisor can be retried');
    }
    if (!isTerminal(stored.state) || this.#running(id)) throw notFinished(id, stored.state);
    const losses = this.#losses;
    if (!(await this.#deps.store.claimForRetry(id))) {
      const now = await this.#deps.store.getSupervisor(id);
      throw now ? notFinished(id, now.state) : notFound(id);
    }
    const rebuilt = await rebuildForRetry(this.#deps, stored, request);
    // Checked again in the same turn as the admission: a retry that raced this one won.
    if (this.#running(id)) {
      rebuilt.live.stop();
      throw notFinished(id, 'running');
    }
    const finished = this.#deps.lives.remove(id);
    if (finished) {
      this.#deps.runner.stopAll(id);
      finished.stop();
    }
    this.#admit(rebuilt.live, null, losses);
    await this.#deps.durable(id, rebuilt.live.version);
    const count = (await countRestores(this.#deps.store, [rebuilt])).get(id);
    if (!count) throw notFound(id);
    const info = await finishRestore(this.#deps, rebuilt, count);
    this.#deps.log.info(
      { supervisorId: id, from: rebuilt.chosen.from, restorationCount: info.restorationCount },
      'supervisor retried',
    );
    await this.#keepReply(id, request, info);
    return info;
  }

  /**
   * A restore's reply exists only after its commits: kept with the entry of its idempotency
   * key so that a repeat answers it again. Best effort: the effect stands without it, and a
   * repeat that finds none rebuilds a reply from the stored row.
   */
  async #keepReply(id: string, asked: RetryRequest, info: RestorationInfo): Promise<void> {
    const { idempotency, by = null } = asked;
    if (!idempotency) return;
    const entry = { supervisorId: id, ...idempotency, by };
    try {
      await this.#deps.store.keepReply(entry, info);
    } catch (error) {
      this.#deps.log.warn({ supervisorId: id, err: error }, 'could not keep the reply of a key');
    }
  }

  #running(id: string): boolean {
    const live = this.#deps.lives.get(id);
    return live !== undefined && !live.isFinished();
  }

  /**
   * Every restorable row, a page at a time, except those `inService` already; progress is
   * logged per page. With `dueBefore` (lazy restore), only those that must run by then are
   * rebuilt; every other one is left for its first touch, its questions asked again from
   * its row, and counted as `deferred`. With `slices`, only the supervisors of those slices
   * (what a node of several holds).
   */
  async all(
    source: RestorationSource,
    inService: (id: string) => boolean,
    dueBefore?: Date,
    slices?: readonly number[],
  ): Promise<{ restored: number; failed: number; deferred: number }> {
    const losses = this.#losses;
    const done = await restoreInPages(
      restorablePages(this.#deps.store, dueBefore, slices),
      (rows) =>
        this.#rows(
          rows.filter((row) => !inService(row.id)),
          source,
          losses,
        ),
      this.#deps.log,
      source,
    );
    if (!dueBefore) return { ...done, deferred: 0 };
    // Nobody to ask (no client connected yet, no webhook): the rows are only counted, and
    // whoever subscribes later reads the questions from them.
    if (!this.#deps.effects.listened) {
      const deferred = await this.#deps.store.countDeferred(dueBefore, slices);
      this.#deps.log.info({ deferred }, 'restore deferred to first touch');
      return { ...done, deferred };
    }
    let deferred = 0;
    for await (const page of deferredPages(this.#deps.store, dueBefore, slices)) {
      if (losses !== this.#losses) throw databaseUnavailable();
      for (const row of page) {
        if (inService(row.id)) continue;
        deferred++;
        this.#deps.effects.emit(askedAgain(row));
      }
    }
    this.#deps.log.info({ deferred }, 'restore deferred to first touch');
    return { ...done, deferred };
  }

  /**
   * The first touch of a supervisor a lazy restart left in its row: the seed's steps, its
   * restore counted now; its questions were asked again at the restart already.
   */
  async firstTouch(stored: SupervisorState): Promise<LiveSupervisor> {
    const { restored, failed } = await this.#rows([stored], 'restart', this.#losses, {
      askAgain: false,
    });
    const live = this.#deps.lives.get(stored.id);
    if (restored === 0 || !live) {
      throw failed[0]?.error ?? new Error(`supervisor ${stored.id} was not restored`);
    }
    return live;
  }

  /**
   * A passivated supervisor back in service from its row: rebuilt as a restore would, but
   * nothing was lost, so no restore is counted, no question re-sent, the machine not told.
   */
  async reactivate(id: string): Promise<LiveSupervisor> {
    const stored = await this.#deps.store.getSupervisor(id);
    if (!stored || isTerminal(stored.state)) {
      throw notRunning(
        id,
        `supervisor ${id} was passivated here but its row is ${stored ? stored.state : 'gone'}`,
      );
    }
    const { live, chosen } = await rebuild(this.#deps, stored, 'restart');
    this.#admit(live, chosen.from === 'stored' ? stored : null, this.#losses);
    return live;
  }

  /** Its tasks that were waiting or running go on (after a reactivation). */
  async resumeTasks(live: LiveSupervisor): Promise<void> {
    const tasks = Object.values(live.context().tasks ?? {});
    if (tasks.some((t) => t.status === 'pending' || t.status === 'running')) {
      await this.#deps.runner.resumeAfterRestore(live);
    }
  }

  /**
   * Rebuild each, put it in service, count the restores (one statement), ask its questions
   * again, then finish (tasks, the restoration notice).
   */
  async #rows(
    rows: readonly SupervisorState[],
    source: RestorationSource,
    losses: number,
    { askAgain = true, inform = false, asked = {} }: RowsOptions = {},
  ): Promise<RowsRestored> {
    // The task rows are read while the page is rebuilt (rows of one not admitted go unused).
    const taskRows = this.#deps.store.listTasksOf(rows.filter(hasTasks).map((row) => row.id));
    taskRows.catch(() => {});
    const admitted: Rebuilt[] = [];
    const failed: RowsRestored['failed'] = [];
    for (const stored of rows) {
      try {
        const one = await rebuild(this.#deps, stored, source);
        this.#admit(one.live, one.chosen.from === 'stored' ? stored : null, losses);
        admitted.push(one);
      } catch (error) {
        failed.push({ id: stored.id, error });
      }
    }
    const informs = (one: Rebuilt) => inform || takesNotice(one.chosen.definition.machine);
    const counted = await countRestores(this.#deps.store, admitted, asked, informs);
    const tasksOf = await taskRows;
    const finishing: Array<() => Promise<RestorationInfo | undefined>> = [];
    for (const one of admitted) {
      const count = counted.get(one.stored.id);
      if (!count) continue;
      if (askAgain) this.#deps.effects.emit(resentQuestions(one));
      const rows = tasksOf.get(one.stored.id);
      finishing.push(() => finishRestore(this.#deps, one, count, rows, inform));
    }
    // Each finish is its own supervisor's (its task rows, its resumed tasks): several at
    // once keep the pool busy, where one after another a page of supervisors with tasks
    // waited out a few round trips each (10,000 with a task in flight: 20 s).
    const finished = await inOrder(finishing, FINISH_CONCURRENCY);
    const infos = finished.filter((info) => info !== undefined);
    return { restored: finishing.length, infos, failed };
  }

  /** In service with the view of its last commit (the row), unless the database was lost meanwhile. */
  #admit(live: LiveSupervisor, stored: SupervisorState | null, losses: number): void {
    if (losses !== this.#losses) {
      live.stop();
      throw databaseUnavailable();
    }
    this.#deps.lives.admit(live);
    this.#deps.effects.adopt(live.id, stored);
    this.#deps.lives.capture(live);
  }
}

/** Whether a stored supervisor spawned tasks: only then are task rows read for it. */
function hasTasks(stored: SupervisorState): boolean {
  return stored.spawnedTaskIds.length > 0;
}

/** Supervisors of a page finishing their restore at the same time. */
const FINISH_CONCURRENCY = 8;

/** Runs the jobs, at most `limit` at once; resolves their results in the jobs' order. */
async function inOrder<T>(jobs: ReadonlyArray<() => Promise<T>>, limit: number): Promise<T[]> {
  const results = new Array<T>(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const at = next++;
      results[at] = await (jobs[at] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}
