// The actor host: the supervisors in memory and the entry points to them. A call finds its
// live supervisor, tells it what happened, captures it (the write is queued), and waits for
// the commit; what the commit makes visible happens in afterCommit.ts.
import { randomUUID } from 'node:crypto';
import { type Logger, silentLogger } from '../logger.ts';
import { ExternalEvent } from '../machines/events.ts';
import { parseInput } from '../machines/registry.ts';
import type { RestorationSource } from '../model/supervisor.ts';
import type { SupervisorStore } from '../persistence/supervisorStore.ts';
import type { AfterCommit } from './afterCommit.ts';
import { type AnswerDeps, answerSupervisor } from './answerLive.ts';
import { type CommandName, commandEntry, eventEntry } from './commands.ts';
import { isTerminal } from './commit/committedChanges.ts';
import { durableWithin } from './commit/commitWait.ts';
import type { SnapshotWriter } from './commit/snapshotWriter.ts';
import type {
  AnswerOptions,
  CommandOptions,
  CommitHealth,
  Committed,
  CommittedQuestions,
  RetryOptions,
  SpawnOptions,
  SupervisorHost,
  SupervisorHostOptions,
} from './hostApi.ts';
import * as refused from './hostErrors.ts';
import { COMMIT_TIMEOUT_MS, wireHostParts } from './hostParts.ts';
import { LazyRestore } from './lazyRestore.ts';
import { LiveSupervisor } from './live/liveSupervisor.ts';
import type { LiveSupervisors } from './live/liveSupervisors.ts';
import { createPassivation, type Passivation } from './passivation.ts';
import type { RestorationInfo } from './restore/restoration.ts';
import type { Restorer } from './restorer.ts';
import type { SliceDuties } from './sliceDuties.ts';
import { isSupervisorId, StoredReads } from './storedReads.ts';
import type { TaskRunner } from './taskRunner.ts';

export type * from './hostApi.ts';

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

class Host extends StoredReads implements SupervisorHost {
  protected readonly store: SupervisorStore;
  readonly #options: SupervisorHostOptions;
  readonly #log: Logger;
  readonly #commitTimeoutMs: number;
  readonly #writer: SnapshotWriter;
  readonly #lives: LiveSupervisors;
  readonly #runner: TaskRunner;
  readonly #effects: AfterCommit;
  readonly #passivation: Passivation | undefined;
  readonly #restorer: Restorer;
  readonly #answering: AnswerDeps;
  readonly #lazy: LazyRestore | undefined;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly slices: SliceDuties | undefined;
  #stopping: Promise<{ unflushed: number }> | undefined;
  /** Between `databaseLost()` and `databaseBack()`: calls are refused. */
  #suspended = false;

  constructor(options: SupervisorHostOptions) {
    super();
    this.store = options.store;
    this.#options = options;
    this.#log = options.log ?? silentLogger;
    this.#commitTimeoutMs = options.commitTimeoutMs ?? COMMIT_TIMEOUT_MS;
    const parts = wireHostParts(options, this.#log, () => this.#passivation);
    this.#writer = parts.writer;
    this.#lives = parts.lives;
    this.#runner = parts.runner;
    this.#effects = parts.effects;
    this.#restorer = parts.restorer;
    this.slices = parts.duties;
    this.#answering = {
      store: options.store,
      lives: this.#lives,
      writer: this.#writer,
      durable: (id, version) => this.#durable(id, version),
    };
    this.#every(options.heartbeatIntervalMs ?? 30_000, () =>
      this.heartbeat().catch((error: unknown) =>
        this.#log.warn({ err: error }, 'heartbeat failed'),
      ),
    );
    const lookaheadMs = options.lazyRestoreLookaheadMs ?? 60_000;
    this.#lazy = options.lazyRestore
      ? new LazyRestore({
          store: options.store,
          restorer: this.#restorer,
          lives: this.#lives,
          passivated: (id) => this.#passivation?.has(id) === true,
          slices: () => this.slices?.held(),
          lookaheadMs,
          log: this.#log,
        })
      : undefined;
    if (this.#lazy) this.#every(Math.max(25, lookaheadMs / 4), () => this.#wakeDue());
    const afterMs = options.passivateAfterMs;
    this.#passivation = afterMs
      ? createPassivation({
          lives: this.#lives,
          writer: this.#writer,
          runner: this.#runner,
          effects: this.#effects,
          rebuild: (id) => this.#reactivate(id),
          log: this.#log,
        })
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

  // --- calls -------------------------------------------------------------------------

  async spawn(machineId: string, input: unknown, spawnOptions: SpawnOptions = {}) {
    this.#checkOpen();
    const definition = this.#options.registry.latest(machineId);
    const id = spawnOptions.id ?? this.slices?.newId() ?? randomUUID();
    if (!isSupervisorId(id)) throw refused.invalidId(id);
    this.slices?.check(id);
    // Checked first: input the machine's schema refuses stores nothing and starts nothing.
    const parsed = parseInput(definition, input);
    if (this.#lives.has(id) || (await this.store.getSupervisor(id)))
      throw refused.alreadyExists(id);
    const live = new LiveSupervisor({
      identity: {
        id,
        machineId: definition.id,
        machineVersion: definition.version,
        owner: spawnOptions.owner ?? null,
      },
      machine: definition.machine,
      input: parsed,
      observer: this.#lives.observer,
      inspect: this.#options.inspect,
    });
    live.record(commandEntry('spawn', spawnOptions, { machineVersion: definition.version }));
    this.#lives.admit(live);
    const version = this.#lives.capture(live);
    await this.#durable(id, version);
    return { id, version };
  }

  async send(id: string, event: unknown, options: CommandOptions = {}): Promise<Committed> {
    const parsed = ExternalEvent.safeParse(event);
    if (!parsed.success) throw refused.invalidEvent(parsed.error.issues);
    const live = await this.#findLive(id);
    if (!live.can(parsed.data))
      throw refused.eventNotAccepted(id, live.stateName(), parsed.data.type);
    live.send(parsed.data);
    live.record(eventEntry(parsed.data, options));
    const version = this.#lives.capture(live);
    await this.#durable(id, version);
    return { version };
  }

  async recordCommand(
    id: string,
    command: CommandName,
    options: CommandOptions,
    details: Record<string, unknown> = {},
  ): Promise<Committed> {
    const live = await this.#findLive(id);
    live.record(commandEntry(command, options, details));
    const version = this.#lives.capture(live);
    await this.#durable(id, version);
    return { version };
  }

  /** Answers a pending question (see answerLive.ts); resolves after its commit. */
  answer(id: string, questionId: string, value: unknown, options: AnswerOptions = {}) {
    const find = () => this.#findLive(id);
    return answerSupervisor(this.#answering, find, id, questionId, value, options);
  }

  pause(id: string, options?: CommandOptions) {
    return this.send(id, { type: 'supervisor.pause' }, options);
  }

  resume(id: string, options?: CommandOptions) {
    return this.send(id, { type: 'supervisor.resume' }, options);
  }

  cancel(id: string, reason?: string, options?: CommandOptions) {
    const event = { type: 'supervisor.cancel', ...(reason === undefined ? {} : { reason }) };
    return this.send(id, event, options);
  }

  // --- reads (the rows' are in storedReads.ts) ------------------------------------

  committed(id: string): CommittedQuestions | undefined {
    // Replaced (never changed) at every commit, and set from the stored row at restore.
    return this.#effects.view(id);
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

  deferred(): number {
    return this.#lazy?.deferred ?? 0;
  }

  async heartbeat(): Promise<number> {
    if (this.#suspended) return 0;
    const ids = this.#lives.runningIds();
    // Passivated supervisors still run here: out of memory is not gone.
    // Not a spread: a call with 100,000+ arguments overflows the stack.
    for (const id of this.#passivation?.ids() ?? []) ids.push(id);
    return ids.length === 0 ? 0 : this.store.touchHeartbeats(ids);
  }

  commitHealth(): CommitHealth {
    const { queued, inFlight, lastCommitAt, failingSince, oldestInFlightSince } =
      this.#writer.stats();
    const pending = queued + inFlight;
    return { suspended: this.#suspended, lastCommitAt, failingSince, oldestInFlightSince, pending };
  }

  // --- restoring ---------------------------------------------------------------------

  async restore(
    id: string,
    source: RestorationSource = 'manual',
    options: CommandOptions = {},
  ): Promise<RestorationInfo> {
    this.#checkOpen();
    if (this.#passivation?.has(id)) {
      throw refused.alreadyExists(
        id,
        'is running here (passivated while idle: its next event brings it back)',
      );
    }
    return this.#restorer.one(id, source, options);
  }

  retry(id: string, options: RetryOptions = {}): Promise<RestorationInfo> {
    this.#checkOpen();
    return this.#restorer.retry(id, options);
  }

  async restoreAll(source: RestorationSource = 'restart', slices = this.slices?.held()) {
    // Also while the database is lost: this is how the supervisors come back before calls
    // are taken again. A loss during it drops what it brought back so far.
    if (this.#stopping) throw refused.stopping();
    const inService = (id: string) => this.#lives.has(id) || this.#passivation?.has(id) === true;
    const done = await this.#restorer.all(source, inService, this.#lazy?.dueBefore(), slices);
    this.#lazy?.deferredAtRestart(done.deferred, slices !== undefined);
    return done;
  }

  /** Deferred supervisors whose timers come due are brought in ahead of them. */
  #wakeDue(): void {
    if (this.#stopping || this.#suspended || !this.#lazy) return;
    this.#lazy.wakeDue().catch((error: unknown) => {
      this.#log.warn({ err: error }, 'could not look for deferred supervisors with timers due');
    });
  }

  // --- passivation -------------------------------------------------------------------

  /** Idle and settled supervisors leave memory; their next call or timer brings them back. */
  #sweep(afterMs: number): void {
    const passivation = this.#passivation;
    if (!passivation || this.#stopping || this.#suspended) return;
    const count = passivation.sweep(afterMs);
    if (count > 0) this.#log.debug({ passivated: count, total: passivation.size }, 'passivated');
  }

  /** Brings a passivated supervisor back from its row (see Restorer.reactivate). */
  async #reactivate(id: string): Promise<LiveSupervisor> {
    this.#checkOpen();
    const live = await this.#restorer.reactivate(id);
    if (this.#stopping || this.#suspended) {
      // The host began to stop while the row was read: no actor may outlive stop().
      this.#lives.remove(id);
      live.stop();
      this.#checkOpen();
    }
    await this.#restorer.resumeTasks(live);
    return live;
  }

  // --- the database and the end ------------------------------------------------------

  databaseLost(): void {
    if (this.#stopping) return;
    // Again while already suspended too: a restore may have brought some back meanwhile.
    this.#suspended = true;
    this.#restorer.lost();
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
      this.#lives.stopObserving();
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

  #checkOpen(): void {
    if (this.#stopping) throw refused.stopping();
    if (this.#suspended) throw refused.databaseUnavailable();
  }

  protected refuseIfDatabaseLost(): void {
    if (this.#suspended) this.#checkOpen();
  }

  /** Resolves once `version` is durable, or fails with ERR_COMMIT_IN_DOUBT after the timeout. */
  #durable(id: string, version: number): Promise<void> {
    return durableWithin(this.#writer, id, version, this.#commitTimeoutMs);
  }

  /** The running supervisor, or ERR_SUPERVISOR_NOT_FOUND / _TERMINATED / _NOT_RUNNING. */
  async #findLive(id: string): Promise<LiveSupervisor> {
    this.#checkOpen();
    this.slices?.check(id);
    const live = this.#lives.get(id);
    if (live && !live.isFinished()) {
      live.touch();
      return live;
    }
    // Finished in memory, its last commit on the way: the row still says what it was. The
    // commit decides what the caller learns (a repeated answer is then a duplicate).
    if (live) await this.#durable(id, live.version);
    if (this.#passivation?.has(id)) return this.#passivation.activate(id);
    const stored = isSupervisorId(id) ? await this.store.getSupervisor(id) : null;
    if (!stored) throw refused.notFound(id);
    if (isTerminal(stored.state))
      throw refused.terminated(id, stored.state, ' and takes no more events');
    if (this.#lazy) return this.#lazy.touch(stored);
    throw refused.notRunning(
      id,
      `supervisor ${id} is stored as ${stored.state} but not running here; restore it first (host.restore, POST /supervisors/${id}/resume)`,
      stored.state,
    );
  }
}
