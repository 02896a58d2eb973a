// The actor host: the supervisors in memory and the entry points to them. A call finds its
// live supervisor, tells it what happened, captures it (the write is queued), and waits for
// the commit; what the commit makes visible happens in afterCommit.ts.
import { randomUUID } from 'node:crypto';
import { isStewardError, StewardError } from '../errors.ts';
import { type Logger, silentLogger } from '../logger.ts';
import { ExternalEvent } from '../machines/events.ts';
import { parseInput } from '../machines/registry.ts';
import type { RestorationSource, SupervisorState } from '../model/supervisor.ts';
import { setTimeoutAfterIo } from '../timers.ts';
import { AfterCommit } from './afterCommit.ts';
import { isTerminal } from './commit/committedChanges.ts';
import { createSnapshotWriter, type SnapshotWriter } from './commit/snapshotWriter.ts';
import type {
  AnswerOptions,
  AnswerResult,
  CommitHealth,
  Committed,
  SupervisorHost,
  SupervisorHostOptions,
} from './hostApi.ts';
import { type LiveObserver, LiveSupervisor } from './live/liveSupervisor.ts';
import { LiveSupervisors } from './live/liveSupervisors.ts';
import { createPassivation, type Passivation } from './passivation.ts';
import {
  countRestores,
  finishRestore,
  type RestorationInfo,
  type RestoreDeps,
  rebuild,
  resentQuestions,
  restoreInPages,
} from './restore/restoration.ts';
import { restorablePages } from './restore/restorePlan.ts';
import { createTaskRunner, type TaskRunner } from './taskRunner.ts';

export type * from './hostApi.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Creates the actor host.
 *
 * @example
 * const host = createSupervisorHost({ store: createSupervisorStore(db), registry });
 * const { id } = await host.spawn('reference', { goal: 'ship', steps: ['build'] });
 * await host.answer(id, 'approve-plan', true);
 */
export function createSupervisorHost(options: SupervisorHostOptions): SupervisorHost {
  return new Host(options);
}

function notFound(id: string): StewardError {
  return new StewardError('ERR_SUPERVISOR_NOT_FOUND', `no supervisor with id ${id}`, { id });
}

class Host implements SupervisorHost {
  readonly #options: SupervisorHostOptions;
  readonly #log: Logger;
  readonly #commitTimeoutMs: number;
  readonly #writer: SnapshotWriter;
  readonly #lives: LiveSupervisors;
  readonly #runner: TaskRunner;
  readonly #effects: AfterCommit;
  readonly #passivation: Passivation | undefined;
  readonly #timers: NodeJS.Timeout[] = [];
  #stopping: Promise<{ unflushed: number }> | undefined;
  /** Between `databaseLost()` and `databaseBack()`: calls are refused. */
  #suspended = false;
  /** How often the database was lost: a restore begun before a loss admits nothing after. */
  #losses = 0;

  /** Each live supervisor's changes between calls: captured once the current turn is done. */
  readonly #observer: LiveObserver = {
    changed: (live) =>
      queueMicrotask(() => {
        if (!this.#stopping) this.#lives.capture(live);
      }),
    failed: (live, error) => {
      this.#log.error(
        { supervisorId: live.id, err: error },
        'supervisor failed; other supervisors continue',
      );
      this.#observer.changed(live);
    },
  };

  constructor(options: SupervisorHostOptions) {
    this.#options = options;
    this.#log = options.log ?? silentLogger;
    this.#commitTimeoutMs = options.commitTimeoutMs ?? 10_000;
    this.#writer = createSnapshotWriter({
      store: options.store,
      log: this.#log,
      ...options.writer,
      onCommitted: (writes) => this.#effects.committed(writes),
      onRejected: (id, error) =>
        this.#log.error({ supervisorId: id, err: error }, 'supervisor row refused'),
    });
    this.#lives = new LiveSupervisors(this.#writer);
    this.#runner = createTaskRunner({
      registry: options.registry,
      store: options.store,
      log: this.#log,
    });
    this.#effects = new AfterCommit({
      lives: this.#lives,
      runner: this.#runner,
      writer: this.#writer,
      log: this.#log,
    });
    this.#every(options.heartbeatIntervalMs ?? 30_000, () =>
      this.heartbeat().catch((error: unknown) =>
        this.#log.warn({ err: error }, 'heartbeat failed'),
      ),
    );
    const afterMs = options.passivateAfterMs;
    this.#passivation = afterMs
      ? createPassivation({ rebuild: (id) => this.#reactivate(id), log: this.#log })
      : undefined;
    if (afterMs)
      this.#every(Math.min(5_000, Math.max(25, afterMs / 2)), () => this.#sweep(afterMs));
  }

  #every(ms: number, work: () => unknown): void {
    if (ms <= 0) return;
    const timer = setInterval(work, ms);
    timer.unref();
    this.#timers.push(timer);
  }

  get #restoreDeps(): RestoreDeps {
    const { store, registry, inspect } = this.#options;
    return { store, registry, log: this.#log, observer: this.#observer, inspect };
  }

  // --- calls -------------------------------------------------------------------------

  async spawn(
    machineId: string,
    input: unknown,
    spawnOptions: { id?: string; owner?: string | null } = {},
  ) {
    this.#checkOpen();
    const definition = this.#options.registry.latest(machineId);
    const id = spawnOptions.id ?? randomUUID();
    if (!UUID.test(id)) {
      throw new StewardError('ERR_VALIDATION', `supervisor id ${id} is not a UUID`, { id });
    }
    // Checked first: input the machine's schema refuses stores nothing and starts nothing.
    const parsed = parseInput(definition, input);
    if (this.#lives.has(id) || (await this.#options.store.getSupervisor(id))) {
      throw new StewardError('ERR_SUPERVISOR_EXISTS', `supervisor ${id} already exists`, { id });
    }
    const live = new LiveSupervisor({
      identity: {
        id,
        machineId: definition.id,
        machineVersion: definition.version,
        owner: spawnOptions.owner ?? null,
      },
      machine: definition.machine,
      input: parsed,
      observer: this.#observer,
      inspect: this.#options.inspect,
    });
    this.#lives.admit(live);
    const version = this.#lives.capture(live);
    await this.#durable(id, version);
    return { id, version };
  }

  async send(id: string, event: unknown): Promise<Committed> {
    const parsed = ExternalEvent.safeParse(event);
    if (!parsed.success) {
      throw new StewardError('ERR_EVENT_INVALID', 'an event is an object with a string `type`', {
        issues: parsed.error.issues,
      });
    }
    const live = await this.#findLive(id);
    if (!live.can(parsed.data)) {
      throw new StewardError(
        'ERR_EVENT_NOT_ACCEPTED',
        `supervisor ${id} in state ${live.stateName()} has no transition for event ${parsed.data.type}`,
        { id, event: parsed.data.type },
      );
    }
    live.send(parsed.data);
    const version = this.#lives.capture(live);
    await this.#durable(id, version);
    return { version };
  }

  /**
   * Validates the value against the pending question, journals the answer with the
   * snapshot that takes it, and resolves after that commit. A question already answered,
   * in flight or committed (also before a restart), is a duplicate.
   */
  async answer(
    id: string,
    questionId: string,
    value: unknown,
    options: AnswerOptions = {},
  ): Promise<AnswerResult> {
    let live: LiveSupervisor;
    try {
      live = await this.#findLive(id);
    } catch (error) {
      // A finished supervisor may have recorded this very answer: then it is a duplicate.
      const recorded = isStewardError(error, 'ERR_SUPERVISOR_TERMINATED')
        ? await this.#options.store.findAnswer(id, questionId)
        : null;
      if (recorded) return { version: recorded.version ?? 0, duplicate: true };
      throw error;
    }
    const onItsWay = live.answerOnItsWay(questionId);
    if (onItsWay !== undefined) {
      // Bounded like every wait on a commit: in doubt after the timeout, never silent.
      await this.#durable(id, onItsWay);
      return { version: this.#writer.committedVersion(id), duplicate: true };
    }
    if (!live.pendingQuestion(questionId)) {
      const recorded = await this.#options.store.findAnswer(id, questionId);
      if (recorded) return { version: recorded.version ?? 0, duplicate: true };
    }
    live.answer(questionId, value, options);
    const version = this.#lives.capture(live);
    live.answerInFlight(questionId, version);
    // Kept until the commit itself, not the caller's timeout: a retry meanwhile is a duplicate.
    const settled = () => live.answerSettled(questionId);
    this.#writer.whenDurable(id, version).then(settled, settled);
    await this.#durable(id, version);
    return { version, duplicate: false };
  }

  pause(id: string) {
    return this.send(id, { type: 'supervisor.pause' });
  }

  resume(id: string) {
    return this.send(id, { type: 'supervisor.resume' });
  }

  cancel(id: string, reason?: string) {
    return this.send(id, {
      type: 'supervisor.cancel',
      ...(reason === undefined ? {} : { reason }),
    });
  }

  // --- reads -------------------------------------------------------------------------

  async get(id: string): Promise<SupervisorState> {
    const stored = UUID.test(id)
      ? await this.#read(() => this.#options.store.getSupervisor(id))
      : null;
    if (!stored) throw notFound(id);
    return stored;
  }

  list(filter?: Parameters<SupervisorHost['list']>[0]) {
    return this.#read(() => this.#options.store.listSupervisors(filter));
  }

  countByState() {
    return this.#read(() => this.#options.store.countByState());
  }

  countPendingQuestions() {
    return this.#read(() => this.#options.store.countPendingQuestions());
  }

  countByStateValue(machineId: string, owner?: string) {
    return this.#read(() => this.#options.store.countByStateValue(machineId, owner));
  }

  async history(id: string, limit = 50) {
    if (!UUID.test(id)) return [];
    return (await this.#read(() => this.#options.store.recentHistory([id], limit))).get(id) ?? [];
  }

  async checkpoints(id: string, limit?: number) {
    if (!UUID.test(id)) return [];
    return this.#read(() => this.#options.store.listCheckpoints(id, limit));
  }

  committed(id: string) {
    const view = this.#effects.view(id);
    // The view is replaced at every commit and set from the stored row at restore.
    return (
      view && { owner: view.owner, version: view.version, pendingQuestions: view.pendingQuestions }
    );
  }

  subscribe(listener: Parameters<SupervisorHost['subscribe']>[0]) {
    return this.#effects.subscribe(listener);
  }

  local(id: string) {
    return this.#lives.get(id)?.lastCaptured();
  }

  size(): number {
    return this.#lives.size;
  }

  passivated(): number {
    return this.#passivation?.size ?? 0;
  }

  async heartbeat(): Promise<number> {
    if (this.#suspended) return 0;
    const ids = [...this.#lives.values()].filter((l) => !l.isFinished()).map((l) => l.id);
    // Passivated supervisors still run here: out of memory is not gone.
    // Not a spread: a call with 100,000+ arguments overflows the stack.
    for (const id of this.#passivation?.ids() ?? []) ids.push(id);
    return ids.length === 0 ? 0 : this.#options.store.touchHeartbeats(ids);
  }

  commitHealth(): CommitHealth {
    const stats = this.#writer.stats();
    return {
      suspended: this.#suspended,
      lastCommitAt: stats.lastCommitAt,
      failingSince: stats.failingSince,
      oldestInFlightSince: stats.oldestInFlightSince,
      pending: stats.queued + stats.inFlight,
    };
  }

  // --- restoring ---------------------------------------------------------------------

  async restore(id: string, source: RestorationSource = 'manual'): Promise<RestorationInfo> {
    this.#checkOpen();
    if (this.#passivation?.has(id)) {
      throw new StewardError(
        'ERR_SUPERVISOR_EXISTS',
        `supervisor ${id} is running here (passivated while idle: its next event brings it back)`,
        { id },
      );
    }
    const live = this.#lives.get(id);
    if (live && !live.isFinished()) {
      throw new StewardError('ERR_SUPERVISOR_EXISTS', `supervisor ${id} is already running here`, {
        id,
      });
    }
    const stored = UUID.test(id) ? await this.#options.store.getSupervisor(id) : null;
    if (!stored) throw notFound(id);
    if (isTerminal(stored.state)) {
      throw new StewardError(
        'ERR_SUPERVISOR_TERMINATED',
        `supervisor ${id} is ${stored.state}: nothing to restore`,
        {
          id,
          state: stored.state,
        },
      );
    }
    const { restored, failed } = await this.#restoreRows([stored], source, this.#losses);
    const info = restored[0];
    if (!info) throw failed[0]?.error ?? new Error(`supervisor ${id} was not restored`);
    this.#log.info(
      { supervisorId: id, source: info.source, restorationCount: info.restorationCount },
      'supervisor restored',
    );
    return info;
  }

  restoreAll(source: RestorationSource = 'restart') {
    // Also while the database is lost: this is how the supervisors come back before calls
    // are taken again. A loss during it drops what it brought back so far.
    if (this.#stopping) throw new StewardError('ERR_RUNTIME_STOPPED', 'the runtime is stopping');
    const losses = this.#losses;
    const inService = (id: string) => this.#lives.has(id) || this.#passivation?.has(id) === true;
    return restoreInPages(
      restorablePages(this.#options.store),
      (rows) =>
        this.#restoreRows(
          rows.filter((row) => !inService(row.id)),
          source,
          losses,
        ),
      this.#log,
      source,
    );
  }

  /**
   * The seed's protocol for stored rows: rebuild each, put it in service, count the restores
   * (one statement), ask its questions again, then finish (tasks, the restoration notice).
   */
  async #restoreRows(rows: readonly SupervisorState[], source: RestorationSource, losses: number) {
    const rebuilt = [];
    const failed: Array<{ id: string; error: unknown }> = [];
    for (const stored of rows) {
      try {
        const one = await rebuild(this.#restoreDeps, stored, source);
        this.#admitRestored(one.live, one.chosen.from === 'stored' ? stored : null, losses);
        rebuilt.push(one);
      } catch (error) {
        failed.push({ id: stored.id, error });
      }
    }
    const counted = await countRestores(this.#options.store, rebuilt);
    const restored: RestorationInfo[] = [];
    const finishing = { store: this.#options.store, log: this.#log, runner: this.#runner };
    for (const one of rebuilt) {
      const count = counted.get(one.stored.id);
      if (!count) continue;
      this.#effects.emit(resentQuestions(one));
      restored.push(await finishRestore(finishing, one, count));
    }
    return { restored, failed };
  }

  /** In service with the view of its last commit (the row), unless the database was lost meanwhile. */
  #admitRestored(live: LiveSupervisor, stored: SupervisorState | null, losses: number): void {
    if (losses !== this.#losses) {
      live.stop();
      throw this.#unavailable();
    }
    this.#lives.admit(live);
    this.#effects.adopt(live.id, stored);
    this.#lives.capture(live);
  }

  // --- passivation -------------------------------------------------------------------

  /** Idle and settled supervisors leave memory; their next call or timer brings them back. */
  #sweep(afterMs: number): void {
    const passivation = this.#passivation;
    if (!passivation || this.#stopping || this.#suspended) return;
    const idleSince = Date.now() - afterMs;
    let count = 0;
    for (const live of [...this.#lives.values()]) {
      if (live.activeAt > idleSince || !this.#settled(live)) continue;
      // Delayed events live in the actor system, which goes: their deadlines wake it again.
      const dueAt = live.nextTimerDue();
      this.#lives.remove(live.id);
      live.stop();
      this.#writer.forget(live.id);
      passivation.park(live.id, dueAt);
      count++;
    }
    if (count > 0) this.#log.debug({ passivated: count, total: passivation.size }, 'passivated');
  }

  /** Nothing about it in progress here, and its last capture committed: it may leave. */
  #settled(live: LiveSupervisor): boolean {
    if (!live.isSettled() || this.#runner.runningFor(live.id) > 0) return false;
    return this.#effects.view(live.id)?.version === live.version;
  }

  /**
   * Brings a passivated supervisor back from its row: rebuilt as a restore would, but
   * nothing was lost, so no restore is counted, no question re-sent, the machine not told.
   */
  async #reactivate(id: string): Promise<LiveSupervisor> {
    this.#checkOpen();
    const stored = await this.#options.store.getSupervisor(id);
    if (!stored || isTerminal(stored.state)) {
      throw new StewardError(
        'ERR_SUPERVISOR_NOT_RUNNING',
        `supervisor ${id} was passivated here but its row is ${stored ? stored.state : 'gone'}`,
        { id },
      );
    }
    const { live, chosen } = await rebuild(this.#restoreDeps, stored, 'restart');
    this.#admitRestored(live, chosen.from === 'stored' ? stored : null, this.#losses);
    if (this.#stopping || this.#suspended) {
      // The host began to stop while the row was read: no actor may outlive stop().
      this.#lives.remove(id);
      live.stop();
      this.#checkOpen();
    }
    const tasks = Object.values(live.context().tasks ?? {});
    if (tasks.some((t) => t.status === 'pending' || t.status === 'running')) {
      await this.#runner.resumeAfterRestore(live);
    }
    return live;
  }

  // --- the database and the end ------------------------------------------------------

  databaseLost(): void {
    if (this.#stopping) return;
    // Again while already suspended too: a restore may have brought some back meanwhile.
    this.#suspended = true;
    this.#losses++;
    const dropped = this.#lives.size + (this.#passivation?.size ?? 0);
    this.#passivation?.forgetAll();
    for (const live of this.#lives.clear()) {
      this.#runner.stopAll(live.id);
      live.stop();
    }
    this.#effects.forgetAll();
    this.#writer.abandon();
    if (dropped > 0) {
      this.#log.warn({ dropped }, 'database lost: every supervisor left memory, calls are refused');
    }
  }

  databaseBack(): void {
    if (!this.#suspended) return;
    this.#suspended = false;
    this.#log.info('database back: taking calls again');
  }

  stop(stopOptions?: { timeoutMs?: number }): Promise<{ unflushed: number }> {
    this.#stopping ??= (async () => {
      for (const timer of this.#timers) clearInterval(timer);
      this.#passivation?.close();
      for (const live of this.#lives.values()) this.#lives.capture(live);
      const { unflushed } = await this.#writer.close(stopOptions?.timeoutMs);
      for (const live of this.#lives.values()) {
        this.#runner.stopAll(live.id);
        live.stop();
      }
      this.#log.info({ supervisors: this.#lives.size, unflushed }, 'supervisor host stopped');
      return { unflushed };
    })();
    return this.#stopping;
  }

  // --- helpers -----------------------------------------------------------------------

  #unavailable(): StewardError {
    return new StewardError(
      'ERR_DATABASE_UNAVAILABLE',
      'the runtime has lost its database and is reconnecting; nothing was done: send it again shortly',
    );
  }

  #checkOpen(): void {
    if (this.#stopping) throw new StewardError('ERR_RUNTIME_STOPPED', 'the runtime is stopping');
    if (this.#suspended) throw this.#unavailable();
  }

  /** Reads go to the database: while it is lost they are refused the same way. */
  async #read<T>(read: () => Promise<T>): Promise<T> {
    if (this.#suspended) this.#checkOpen();
    return read();
  }

  /** Resolves once `version` is durable, or fails with ERR_COMMIT_IN_DOUBT after the timeout. */
  async #durable(id: string, version: number): Promise<void> {
    const committed = this.#writer.whenDurable(id, version);
    committed.catch(() => {});
    let cancel: (() => void) | undefined;
    const timeout = new Promise<never>((_, reject) => {
      cancel = setTimeoutAfterIo(() => {
        reject(
          new StewardError(
            'ERR_COMMIT_IN_DOUBT',
            `supervisor ${id}: version ${version} has not committed within ${this.#commitTimeoutMs} ms and may still commit (the runtime keeps trying): send the same request again to learn; an answer that committed is acknowledged as a duplicate`,
            { supervisorId: id, version },
          ),
        );
      }, this.#commitTimeoutMs);
    });
    try {
      await Promise.race([committed, timeout]);
    } finally {
      cancel?.();
    }
  }

  /** The running supervisor, or ERR_SUPERVISOR_NOT_FOUND / _TERMINATED / _NOT_RUNNING. */
  async #findLive(id: string): Promise<LiveSupervisor> {
    this.#checkOpen();
    const live = this.#lives.get(id);
    if (live && !live.isFinished()) {
      live.touch();
      return live;
    }
    // Finished in memory, its last commit on the way: the row still says what it was. The
    // commit decides what the caller learns (a repeated answer is then a duplicate).
    if (live) await this.#durable(id, live.version);
    if (this.#passivation?.has(id)) return this.#passivation.activate(id);
    const stored = UUID.test(id) ? await this.#options.store.getSupervisor(id) : null;
    if (!stored) throw notFound(id);
    if (!isTerminal(stored.state)) {
      throw new StewardError(
        'ERR_SUPERVISOR_NOT_RUNNING',
        `supervisor ${id} is stored as ${stored.state} but not running here; restore it first (host.restore, POST /supervisors/${id}/resume)`,
        { id, state: stored.state },
      );
    }
    throw new StewardError(
      'ERR_SUPERVISOR_TERMINATED',
      `supervisor ${id} is ${stored.state} and takes no more events`,
      {
        id,
        state: stored.state,
      },
    );
  }
}
