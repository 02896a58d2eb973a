import { randomUUID } from 'node:crypto';
import type { AnyMachineSnapshot, InspectionEvent } from 'xstate';
import { StewardError } from '../errors.ts';
import { type Logger, silentLogger } from '../logger.ts';
import { ExternalEvent } from '../machines/events.ts';
import { type MachineRegistry, parseInput } from '../machines/registry.ts';
import type {
  LifecycleState,
  PendingQuestion,
  RestorationSource,
  SupervisorState,
} from '../model/supervisor.ts';
import type { Checkpoint, JournalEvent } from '../model/task.ts';
import type { FleetFilter } from '../persistence/fleetQueries.ts';
import type { SupervisorStore } from '../persistence/supervisorStore.ts';
import { setTimeoutAfterIo } from '../timers.ts';
import { createAnswerPath } from './answerPath.ts';
import {
  type ChangeListener,
  type CommittedChange,
  type CommittedView,
  changesOf,
  isTerminal,
  viewOf,
} from './commit/committedChanges.ts';
import {
  type CommittedWrite,
  createSnapshotWriter,
  type SnapshotWriterOptions,
} from './commit/snapshotWriter.ts';
import {
  captureSupervisor,
  type HostedSupervisor,
  isFinished,
  startSupervisor,
  stopLeakedChildren,
} from './live/liveSupervisor.ts';
import { createPassivation } from './passivation.ts';
import {
  type RestorationInfo,
  type RestorationPorts,
  reactivate,
  restoreAll,
  restoreStored,
} from './restore/restoration.ts';
import { createTaskRunner } from './taskRunner.ts';

/** Options of the actor host. */
export interface SupervisorHostOptions {
  store: SupervisorStore;
  registry: MachineRegistry;
  log?: Logger;
  /**
   * How long a call waits for its commit before failing with `ERR_COMMIT_IN_DOUBT` (it may
   * still commit: the writer keeps trying). Every wait on a commit has this bound.
   */
  commitTimeoutMs?: number;
  /**
   * XState's inspection API, for an outside inspector such as `@statelyai/inspect`
   * (`inspect: createWebSocketInspector().inspect`): it sees every actor event and
   * snapshot of every hosted supervisor. An inspector that throws changes nothing.
   */
  inspect?: (event: InspectionEvent) => void;
  /** Interval of the heartbeat save point; 0 turns it off. */
  heartbeatIntervalMs?: number;
  /**
   * Drops a supervisor from memory once it has been idle this long (no call, no change,
   * nothing in flight, no task or invoked actor running); the next call, answer or due
   * timer brings it back from its stored row, without counting a restore. 0 or unset:
   * every supervisor stays in memory.
   */
  passivateAfterMs?: number;
  writer?: Pick<
    SnapshotWriterOptions,
    'maxBatch' | 'maxConcurrentBatches' | 'retryInitialMs' | 'retryMaxMs' | 'onBatch'
  >;
}

/** What the host knows of a supervisor's last commit, from memory. */
export interface CommittedQuestions {
  owner: string | null;
  version: number;
  pendingQuestions: readonly PendingQuestion[];
}

/** The result of a call that changed a supervisor: the version that made it durable. */
export interface Committed {
  version: number;
}

/** Who answers, and whether they may answer a given question. */
export interface AnswerOptions {
  /** Recorded in the journal with the answer. */
  answeredBy?: string | null;
  /**
   * Checked against the pending question as the supervisor holds it at that moment, so the
   * check and the answer cannot be told apart by a question asked in between; a refusal
   * is `ERR_FORBIDDEN` and changes nothing.
   */
  mayAnswer?: (question: PendingQuestion) => boolean;
}

/** The result of an answer: a repeated answer to the same question is a duplicate. */
export interface AnswerResult extends Committed {
  duplicate: boolean;
}

/** Hosts supervisors: runs their actors and persists every transition before acknowledging. */
export interface SupervisorHost {
  /**
   * Starts a supervisor of the newest registered version of a machine. The input is
   * checked against that version's `input` schema first (`ERR_INPUT_INVALID`, nothing
   * stored) and the machine receives the parsed value. Resolves once its first snapshot
   * has committed.
   */
  spawn(
    machineId: string,
    input: unknown,
    options?: { id?: string; owner?: string | null },
  ): Promise<{ id: string } & Committed>;
  /**
   * Sends an event. Resolves once the snapshot it produced has committed; an event the
   * supervisor has no transition for is refused with `ERR_EVENT_NOT_ACCEPTED`.
   */
  send(id: string, event: unknown): Promise<Committed>;
  /**
   * Answers a pending question after validating the value against its answer kind.
   * Idempotent: answering a question again reports a duplicate and changes nothing.
   */
  answer(
    id: string,
    questionId: string,
    value: unknown,
    options?: AnswerOptions,
  ): Promise<AnswerResult>;
  pause(id: string): Promise<Committed>;
  resume(id: string): Promise<Committed>;
  cancel(id: string, reason?: string): Promise<Committed>;
  /** A supervisor as stored; `ERR_SUPERVISOR_NOT_FOUND` when there is none. */
  get(id: string): Promise<SupervisorState>;
  /** Stored supervisors matching a filter (indexed queries). */
  list(filter?: FleetFilter): Promise<SupervisorState[]>;
  /** How many stored supervisors are in each lifecycle state. */
  countByState(): Promise<Record<LifecycleState, number>>;
  /** How many questions are pending across the stored fleet. */
  countPendingQuestions(): Promise<number>;
  /** How many supervisors of a machine (an owner's, when given) are in each state value. */
  countByStateValue(machineId: string, owner?: string): Promise<Record<string, number>>;
  /** The newest journal entries of a supervisor, oldest first. */
  history(id: string, limit?: number): Promise<JournalEvent[]>;
  /** A supervisor's kept checkpoints, newest first. */
  checkpoints(id: string, limit?: number): Promise<Checkpoint[]>;
  /**
   * Owner, version and pending questions of a hosted supervisor as last committed (never
   * a question that is not durable yet); `undefined` when it is not in memory.
   */
  committed(id: string): CommittedQuestions | undefined;
  /** Receives every committed change; returns the unsubscribe function. */
  subscribe(listener: ChangeListener): () => void;
  /** The heartbeat save point now: touches `last_heartbeat` of every hosted supervisor. */
  heartbeat(): Promise<number>;
  /** The last captured version and persisted snapshot of a hosted supervisor (tests, tools). */
  local(id: string): { version: number; snapshot: unknown } | undefined;
  /** How many supervisors are in memory. */
  size(): number;
  /** How many supervisors are passivated: running here, but out of memory until needed. */
  passivated(): number;
  /**
   * Brings a stored supervisor back into memory: rebuilds its actor from the stored
   * snapshot, counts the restore (`restoration_count`, time, source), re-sends its pending
   * questions on the committed-changes stream, and picks up its tasks.
   */
  restore(id: string, source?: RestorationSource): Promise<RestorationInfo>;
  /** Restores every stored supervisor that is not finished, page by page, logging progress. */
  restoreAll(source?: RestorationSource): Promise<{ restored: number; failed: number }>;
  /**
   * The database is lost (or the claim on it): drops every supervisor from memory without
   * writing (nothing acknowledged lives only there), stops their tasks, and refuses every
   * call with `ERR_DATABASE_UNAVAILABLE` until `resume()`. Callers waiting on a commit in
   * flight get `ERR_COMMIT_IN_DOUBT`. Idempotent.
   */
  databaseLost(): void;
  /**
   * Takes calls again after `databaseLost()`. Call `restoreAll()` first (it runs while calls
   * are still refused), so no call finds its supervisor missing.
   */
  databaseBack(): void;
  /** How commits are going, for readiness. */
  commitHealth(): CommitHealth;
  /**
   * Flushes every pending write, then stops the actors. Idempotent. With `timeoutMs`, stops
   * waiting for the flush after that long; resolves with how many supervisors had writes
   * left unflushed (never acknowledged, so nothing acknowledged is lost).
   */
  stop(options?: { timeoutMs?: number }): Promise<{ unflushed: number }>;
}

/** What readiness is judged on. */
export interface CommitHealth {
  /** True between `databaseLost()` and `databaseBack()`. */
  suspended: boolean;
  /** When a write last committed (epoch ms). */
  lastCommitAt: number | undefined;
  /** Since when every commit attempt has failed; undefined while commits go through. */
  failingSince: number | undefined;
  /** When the oldest commit still waiting for its reply was sent. */
  oldestInFlightSince: number | undefined;
  /** Supervisor writes queued and in flight. */
  pending: number;
}

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
  const log = options.log ?? silentLogger;
  const commitTimeoutMs = options.commitTimeoutMs ?? 10_000;
  const hosted = new Map<string, HostedSupervisor>();
  const lastCommitted = new Map<string, CommittedView>();
  const listeners = new Set<ChangeListener>();
  const undelivered = new Map<string, Array<{ type: string } & Record<string, unknown>>>();
  let stopping: Promise<{ unflushed: number }> | undefined;
  /** Between `databaseLost()` and `databaseBack()`: calls are refused. */
  let suspended = false;
  /** How often the database was lost: a restore begun before a loss admits nothing after. */
  let losses = 0;

  const writer = createSnapshotWriter({
    store: options.store,
    log,
    ...options.writer,
    onCommitted: publish,
    onRejected: (id, error) =>
      log.error({ supervisorId: id, err: error }, 'supervisor row refused'),
  });

  const runner = createTaskRunner({
    registry: options.registry,
    store: options.store,
    log,
    deliver: (h, event) => deliver(h, event),
  });

  const heartbeatTimer =
    (options.heartbeatIntervalMs ?? 30_000) > 0
      ? setInterval(() => {
          heartbeat().catch((error: unknown) => log.warn({ err: error }, 'heartbeat failed'));
        }, options.heartbeatIntervalMs ?? 30_000)
      : undefined;
  heartbeatTimer?.unref();

  function publish(writes: readonly CommittedWrite[]): void {
    for (const committed of writes) {
      const { write } = committed;
      const changes = changesOf(lastCommitted.get(write.id) ?? null, committed);
      if (isTerminal(write.state)) {
        lastCommitted.delete(write.id);
        release(write.id, write.version);
      } else {
        lastCommitted.set(write.id, viewOf(write));
      }
      emit(changes);
      const h = hosted.get(write.id);
      if (h) {
        if (committed.tasks.length > 0) runner.afterCommit(h, committed.tasks);
        retryUndelivered(h);
      }
    }
  }

  function emit(changes: readonly CommittedChange[]): void {
    for (const change of changes) {
      for (const listener of listeners) {
        try {
          listener(change);
        } catch (error) {
          log.error({ err: error, change: change.type }, 'a committed-change listener threw');
        }
      }
    }
  }

  /**
   * Hands the runtime's own events (task outcomes) to a supervisor. One the current state
   * cannot take waits and is offered again after each of its commits, so a task result
   * that arrives while the supervisor is paused is not lost. An escalation the machine
   * does not handle fails the supervisor: that is the default of the restart policy.
   */
  function deliver(h: HostedSupervisor, event: { type: string } & Record<string, unknown>): void {
    if (isFinished(h) || stopping) return;
    if ((h.actor.getSnapshot() as AnyMachineSnapshot).can(event)) {
      h.actor.send(event);
      capture(h);
    } else if (event.type === 'task.escalated') {
      h.refusal = String(event.reason);
      h.dirty = true;
      capture(h);
    } else {
      const waiting = undelivered.get(h.identity.id) ?? [];
      waiting.push(event);
      undelivered.set(h.identity.id, waiting);
    }
  }

  function retryUndelivered(h: HostedSupervisor): void {
    const waiting = undelivered.get(h.identity.id);
    if (!waiting) return;
    undelivered.delete(h.identity.id);
    for (const event of waiting) deliver(h, event);
  }

  /** A finished supervisor leaves memory once its last snapshot is durable. */
  function release(id: string, version: number): void {
    const h = hosted.get(id);
    if (!h || h.version !== version || !isFinished(h)) return;
    hosted.delete(id);
    undelivered.delete(id);
    writer.forget(id);
    runner.stopAll(id);
    h.actor.stop();
  }

  function capture(h: HostedSupervisor): number {
    // Dropped when the database was lost: what its actor still emits is never written.
    if (hosted.get(h.identity.id) !== h) return h.version;
    h.activeAt = Date.now();
    const request = captureSupervisor(h);
    if (request) writer.enqueue(request);
    return h.version;
  }

  function onDirty(h: HostedSupervisor): void {
    queueMicrotask(() => {
      if (h.dirty && !stopping) capture(h);
    });
  }

  function onError(h: HostedSupervisor, error: unknown): void {
    log.error(
      { supervisorId: h.identity.id, err: error },
      'supervisor failed; other supervisors continue',
    );
    stopLeakedChildren(h);
    h.dirty = true;
    onDirty(h);
  }

  function unavailableError(): StewardError {
    return new StewardError(
      'ERR_DATABASE_UNAVAILABLE',
      'the runtime has lost its database and is reconnecting; nothing was done: send it again shortly',
    );
  }

  function checkOpen(): void {
    if (stopping) throw new StewardError('ERR_RUNTIME_STOPPED', 'the runtime is stopping');
    if (suspended) throw unavailableError();
  }

  /** Reads go to the database: while it is lost they are refused the same way. */
  function readable<T>(read: () => Promise<T>): Promise<T> {
    if (suspended) {
      try {
        checkOpen();
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return read();
  }

  async function durable(id: string, version: number): Promise<void> {
    const committed = writer.whenDurable(id, version);
    committed.catch(() => {});
    let cancel: (() => void) | undefined;
    const timeout = new Promise<never>((_, reject) => {
      cancel = setTimeoutAfterIo(() => {
        reject(
          new StewardError(
            'ERR_COMMIT_IN_DOUBT',
            `supervisor ${id}: version ${version} has not committed within ${commitTimeoutMs} ms and may still commit (the runtime keeps trying): send the same request again to learn; an answer that committed is acknowledged as a duplicate`,
            { supervisorId: id, version },
          ),
        );
      }, commitTimeoutMs);
    });
    try {
      await Promise.race([committed, timeout]);
    } finally {
      cancel?.();
    }
  }

  async function findLive(id: string): Promise<HostedSupervisor> {
    checkOpen();
    const h = hosted.get(id);
    if (h && !isFinished(h)) {
      h.activeAt = Date.now();
      return h;
    }
    // Finished in memory, its last commit on the way: the row still says what it was. The
    // commit decides what the caller learns (a repeated answer is then a duplicate).
    if (h) await durable(id, h.version);
    if (passivation?.has(id)) return passivation.activate(id);
    const stored = UUID.test(id) ? await options.store.getSupervisor(id) : null;
    if (!stored) {
      throw new StewardError('ERR_SUPERVISOR_NOT_FOUND', `no supervisor with id ${id}`, { id });
    }
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
      { id, state: stored.state },
    );
  }

  function stateName(h: HostedSupervisor): string {
    return JSON.stringify((h.actor.getSnapshot() as AnyMachineSnapshot).value);
  }

  async function send(id: string, event: unknown): Promise<Committed> {
    const parsed = ExternalEvent.safeParse(event);
    if (!parsed.success) {
      throw new StewardError('ERR_EVENT_INVALID', 'an event is an object with a string `type`', {
        issues: parsed.error.issues,
      });
    }
    const h = await findLive(id);
    const snapshot = h.actor.getSnapshot() as AnyMachineSnapshot;
    if (!snapshot.can(parsed.data)) {
      throw new StewardError(
        'ERR_EVENT_NOT_ACCEPTED',
        `supervisor ${id} in state ${stateName(h)} has no transition for event ${parsed.data.type}`,
        { id, event: parsed.data.type },
      );
    }
    h.actor.send(parsed.data);
    const version = capture(h);
    await durable(id, version);
    return { version };
  }

  const answer = createAnswerPath({
    store: options.store,
    writer,
    findLive,
    capture,
    durable,
    stateName,
  });

  async function heartbeat(): Promise<number> {
    if (suspended) return 0;
    const ids = [...hosted.values()].filter((h) => !isFinished(h)).map((h) => h.identity.id);
    // Passivated supervisors still run here: out of memory is not gone.
    // Not a spread: a call with 100,000+ arguments overflows the stack.
    for (const id of passivation?.ids() ?? []) ids.push(id);
    return ids.length === 0 ? 0 : options.store.touchHeartbeats(ids);
  }

  const restorationPorts: RestorationPorts = {
    store: options.store,
    registry: options.registry,
    log,
    runner,
    start: (startOptions) =>
      startSupervisor({ ...startOptions, onDirty, onError, inspect: options.inspect }),
    admit(h, committed) {
      hosted.set(h.identity.id, h);
      if (committed)
        lastCommitted.set(
          h.identity.id,
          viewOf({ ...committed, owner: h.identity.owner } as never),
        );
      else lastCommitted.delete(h.identity.id);
    },
    capture,
    emit,
    now: Date.now,
  };

  /** True when nothing about a supervisor is in progress, so it may leave memory. */
  function settled(h: HostedSupervisor): boolean {
    const { id } = h.identity;
    if (isFinished(h) || h.dirty || h.answering.size > 0 || h.extraEvents.length > 0) return false;
    if (undelivered.has(id) || runner.runningFor(id) > 0) return false;
    if (lastCommitted.get(id)?.version !== h.version) return false;
    const snapshot = h.actor.getSnapshot() as AnyMachineSnapshot;
    // An invoked or spawned actor at work would be stopped with the supervisor.
    if (Object.keys(snapshot.children ?? {}).length > 0) return false;
    const { tasks } = snapshot.context as { tasks?: Record<string, { status: string }> };
    return !Object.values(tasks ?? {}).some(
      (t) => t.status === 'pending' || t.status === 'running',
    );
  }

  const passivation = options.passivateAfterMs
    ? createPassivation({
        afterMs: options.passivateAfterMs,
        hosted,
        settled,
        left: (id) => writer.forget(id),
        async rebuild(id) {
          checkOpen();
          const stored = await options.store.getSupervisor(id);
          if (!stored || isTerminal(stored.state)) {
            throw new StewardError(
              'ERR_SUPERVISOR_NOT_RUNNING',
              `supervisor ${id} was passivated here but its row is ${stored ? stored.state : 'gone'}`,
              { id },
            );
          }
          const h = await reactivate(restorationPorts, stored);
          if (stopping || suspended) {
            // The host began to stop while the row was read: no actor may outlive stop().
            hosted.delete(id);
            h.actor.stop();
            checkOpen();
          }
          return h;
        },
        log,
      })
    : undefined;

  async function restore(id: string, source: RestorationSource): Promise<RestorationInfo> {
    checkOpen();
    const live = hosted.get(id);
    if (passivation?.has(id)) {
      throw new StewardError(
        'ERR_SUPERVISOR_EXISTS',
        `supervisor ${id} is running here (passivated while idle: its next event brings it back)`,
        { id },
      );
    }
    if (live && !isFinished(live)) {
      throw new StewardError('ERR_SUPERVISOR_EXISTS', `supervisor ${id} is already running here`, {
        id,
      });
    }
    const stored = UUID.test(id) ? await options.store.getSupervisor(id) : null;
    if (!stored) {
      throw new StewardError('ERR_SUPERVISOR_NOT_FOUND', `no supervisor with id ${id}`, { id });
    }
    if (isTerminal(stored.state)) {
      throw new StewardError(
        'ERR_SUPERVISOR_TERMINATED',
        `supervisor ${id} is ${stored.state}: nothing to restore`,
        { id, state: stored.state },
      );
    }
    const { restored, failed } = await restoreStored(restorationPorts, [stored], source);
    const info = restored[0];
    if (!info) throw failed[0]?.error ?? new Error(`supervisor ${id} was not restored`);
    log.info(
      { supervisorId: id, source: info.source, restorationCount: info.restorationCount },
      'supervisor restored',
    );
    return info;
  }

  return {
    restore: (id, source = 'manual') => restore(id, source),

    restoreAll(source = 'restart') {
      // Also while the database is lost: this is how the supervisors come back before
      // calls are taken again. A loss during it drops what it brought back so far.
      if (stopping) throw new StewardError('ERR_RUNTIME_STOPPED', 'the runtime is stopping');
      const mine = losses;
      return restoreAll(
        {
          ...restorationPorts,
          admit(h, committed) {
            if (losses !== mine) {
              h.actor.stop();
              throw unavailableError();
            }
            restorationPorts.admit(h, committed);
          },
        },
        (id) => hosted.has(id) || passivation?.has(id) === true,
        source,
      );
    },

    async spawn(machineId, input, spawnOptions = {}) {
      checkOpen();
      const definition = options.registry.latest(machineId);
      const id = spawnOptions.id ?? randomUUID();
      if (!UUID.test(id)) {
        throw new StewardError('ERR_VALIDATION', `supervisor id ${id} is not a UUID`, { id });
      }
      const parsedInput = parseInput(definition, input);
      if (hosted.has(id) || (await options.store.getSupervisor(id))) {
        throw new StewardError('ERR_SUPERVISOR_EXISTS', `supervisor ${id} already exists`, { id });
      }
      const h = startSupervisor({
        identity: {
          id,
          machineId: definition.id,
          machineVersion: definition.version,
          owner: spawnOptions.owner ?? null,
        },
        machine: definition.machine,
        input: parsedInput,
        onDirty,
        onError,
        inspect: options.inspect,
      });
      hosted.set(id, h);
      const version = capture(h);
      await durable(id, version);
      return { id, version };
    },

    send,
    answer,
    pause: (id) => send(id, { type: 'supervisor.pause' }),
    resume: (id) => send(id, { type: 'supervisor.resume' }),
    cancel: (id, reason) =>
      send(id, { type: 'supervisor.cancel', ...(reason === undefined ? {} : { reason }) }),

    async get(id) {
      const stored = UUID.test(id) ? await readable(() => options.store.getSupervisor(id)) : null;
      if (!stored) {
        throw new StewardError('ERR_SUPERVISOR_NOT_FOUND', `no supervisor with id ${id}`, { id });
      }
      return stored;
    },

    list: (filter) => readable(() => options.store.listSupervisors(filter)),
    countByState: () => readable(() => options.store.countByState()),
    countPendingQuestions: () => readable(() => options.store.countPendingQuestions()),
    countByStateValue: (machineId, owner) =>
      readable(() => options.store.countByStateValue(machineId, owner)),

    async history(id, limit = 50) {
      if (!UUID.test(id)) return [];
      return (await readable(() => options.store.recentHistory([id], limit))).get(id) ?? [];
    },

    checkpoints: (id, limit) =>
      UUID.test(id)
        ? readable(() => options.store.listCheckpoints(id, limit))
        : Promise.resolve([]),

    committed(id) {
      const view = lastCommitted.get(id);
      if (!view) return undefined;
      // The view is replaced at every commit and set from the stored row at restore.
      return { owner: view.owner, version: view.version, pendingQuestions: view.pendingQuestions };
    },

    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    heartbeat,

    local(id) {
      const h = hosted.get(id);
      if (!h?.lastJson) return undefined;
      return { version: h.version, snapshot: JSON.parse(h.lastJson) };
    },

    size: () => hosted.size,

    passivated: () => passivation?.size ?? 0,

    databaseLost() {
      if (stopping) return;
      // Again while already suspended too: a restore may have brought some back meanwhile.
      suspended = true;
      losses++;
      const dropped = hosted.size + (passivation?.size ?? 0);
      passivation?.forgetAll();
      for (const h of hosted.values()) {
        runner.stopAll(h.identity.id);
        h.actor.stop();
      }
      hosted.clear();
      lastCommitted.clear();
      undelivered.clear();
      writer.abandon();
      if (dropped > 0) {
        log.warn({ dropped }, 'database lost: every supervisor left memory, calls are refused');
      }
    },

    databaseBack() {
      if (!suspended) return;
      suspended = false;
      log.info('database back: taking calls again');
    },

    commitHealth() {
      const stats = writer.stats();
      return {
        suspended,
        lastCommitAt: stats.lastCommitAt,
        failingSince: stats.failingSince,
        oldestInFlightSince: stats.oldestInFlightSince,
        pending: stats.queued + stats.inFlight,
      };
    },

    stop(stopOptions?: { timeoutMs?: number }): Promise<{ unflushed: number }> {
      stopping ??= (async (): Promise<{ unflushed: number }> => {
        if (heartbeatTimer) clearInterval(heartbeatTimer);
        passivation?.close();
        for (const h of hosted.values()) capture(h);
        const { unflushed } = await writer.close(stopOptions?.timeoutMs);
        for (const h of hosted.values()) {
          runner.stopAll(h.identity.id);
          h.actor.stop();
        }
        log.info({ supervisors: hosted.size, unflushed }, 'supervisor host stopped');
        return { unflushed };
      })();
      return stopping;
    },
  };
}
