import type { AnyActorRef, AnyMachineSnapshot, Snapshot } from 'xstate';
import type { Logger } from '../../logger.ts';
import type { MachineDefinition, MachineRegistry } from '../../machines/registry.ts';
import type { SpawnedTask } from '../../machines/tasks.ts';
import { scheduleEvent } from '../../machines/xstateInternals.ts';
import type {
  StateRecoveryAction,
  StateViolation,
  SupervisorRestorationContext,
} from '../../model/restoration.ts';
import type { RestorationSource, SupervisorState } from '../../model/supervisor.ts';
import type { Checkpoint, JournalEvent } from '../../model/task.ts';
import type { RestoreMark } from '../../persistence/supervisorRepository.ts';
import type { SupervisorStore } from '../../persistence/supervisorStore.ts';
import type { CommittedChange, CommittedView } from '../commit/committedChanges.ts';
import { type TimerRecord, toTaskRow } from '../live/capture.ts';
import { adoptRestored, type HostedSupervisor, type StartOptions } from '../live/liveSupervisor.ts';
import type { TaskRunner } from '../taskRunner.ts';
import { type Upgraded, upgradeSnapshot } from './machineUpgrade.ts';
import { validateSnapshot } from './snapshotValidation.ts';

/** What restoration needs from the host it restores into. */
export interface RestorationPorts {
  store: SupervisorStore;
  registry: MachineRegistry;
  log: Logger;
  runner: TaskRunner;
  start(options: Omit<StartOptions, 'onDirty' | 'onError'>): HostedSupervisor;
  /** Puts a supervisor in service, with the view its last commit left (null: none). */
  admit(hosted: HostedSupervisor, committed: CommittedView | null): void;
  capture(hosted: HostedSupervisor): number;
  emit(changes: readonly CommittedChange[]): void;
  now(): number;
}

/** What a restore starts from: the stored snapshot, a checkpoint, or nothing (afresh). */
export type Plan =
  | { from: 'stored'; definition: MachineDefinition; upgraded: Upgraded; timers: unknown[] }
  | {
      from: 'checkpoint';
      definition: MachineDefinition;
      checkpoint: Checkpoint;
      upgraded: Upgraded;
      violations: StateViolation[];
    }
  | { from: 'fresh'; definition: MachineDefinition; violations: StateViolation[] };

function check(
  registry: MachineRegistry,
  machineId: string,
  version: number,
  snapshot: unknown,
): { upgraded?: Upgraded; violations: StateViolation[] } {
  const upgraded = upgradeSnapshot(registry, machineId, version, snapshot);
  if ('code' in upgraded) return { violations: [upgraded] };
  return { upgraded, violations: validateSnapshot(upgraded.definition, upgraded.snapshot) };
}

/**
 * The seed's decision: a stored state that validates is restored as it is; one that does
 * not falls back to the newest checkpoint that validates, walking back; with none, the
 * supervisor starts afresh from its stored input.
 */
export async function plan(
  ports: Pick<RestorationPorts, 'registry' | 'store'>,
  stored: SupervisorState,
): Promise<Plan> {
  const mine = check(ports.registry, stored.machineId, stored.machineVersion, stored.snapshot);
  if (mine.upgraded && mine.violations.length === 0) {
    return {
      from: 'stored',
      definition: mine.upgraded.definition,
      upgraded: mine.upgraded,
      timers: stored.timers,
    };
  }
  for (const checkpoint of await ports.store.listCheckpoints(stored.id, 20)) {
    const candidate = check(
      ports.registry,
      stored.machineId,
      checkpoint.machineVersion,
      checkpoint.snapshot,
    );
    if (candidate.upgraded && candidate.violations.length === 0) {
      return {
        from: 'checkpoint',
        definition: candidate.upgraded.definition,
        checkpoint,
        upgraded: candidate.upgraded,
        violations: mine.violations,
      };
    }
  }
  return {
    from: 'fresh',
    definition: ports.registry.latest(stored.machineId),
    violations: mine.violations,
  };
}

function childAt(root: AnyActorRef, path: readonly string[]): AnyActorRef | undefined {
  let ref: AnyActorRef | undefined = root;
  for (const id of path) {
    ref = (ref?.getSnapshot() as { children?: Record<string, AnyActorRef> } | undefined)
      ?.children?.[id];
  }
  return ref;
}

/**
 * Schedules the delayed events XState's snapshot does not carry, at their original
 * deadlines (at once when overdue), with their original ids so that leaving the state
 * still cancels them.
 */
function rearmTimers(
  hosted: HostedSupervisor,
  timers: readonly unknown[],
  now: number,
  log: Logger,
): number {
  let armed = 0;
  for (const timer of timers as TimerRecord[]) {
    const source = childAt(hosted.actor, timer.sourcePath);
    const target = childAt(hosted.actor, timer.targetPath);
    if (!source || !target) {
      log.warn({ supervisorId: hosted.identity.id, timer: timer.id }, 'timer target is gone');
      continue;
    }
    scheduleEvent(hosted.actor, {
      source,
      target,
      event: timer.event,
      delay: Math.max(0, timer.dueAt - now),
      id: timer.id,
    });
    armed++;
  }
  return armed;
}

/**
 * Applies the repairs task validation names (the snapshot is the truth): rows it describes
 * are written from it, rows it does not know are cancelled. Outcomes a row recorded ahead
 * are delivered by the task runner instead.
 */
async function repairTaskRows(
  ports: RestorationPorts,
  hosted: HostedSupervisor,
  live: AnyMachineSnapshot,
): Promise<StateViolation[]> {
  const { violations } = await ports.store.validateTasks(hosted.identity.id);
  const tasks = (live.context as { tasks?: Record<string, SpawnedTask> }).tasks ?? {};
  const rewrite = violations
    .filter((v) => v.action === 'write_row' && v.subject && tasks[v.subject])
    .map((v) =>
      toTaskRow(hosted.identity.id, v.subject as string, tasks[v.subject as string] as SpawnedTask),
    );
  const cancel = violations
    .filter((v) => v.action === 'cancel_row' && v.subject)
    .map((v) => v.subject as string);
  if (rewrite.length === 0 && cancel.length === 0) return [];
  ports.log.warn(
    { supervisorId: hosted.identity.id, violations },
    'task rows disagreed with the snapshot; repaired from it',
  );
  await ports.store.repairTasks(rewrite, cancel);
  return violations.filter((v) => v.action === 'write_row' || v.action === 'cancel_row');
}

function describeTasks(snapshot: AnyMachineSnapshot): {
  waiting: string[];
  summary: string;
  total: number;
} {
  const tasks = (snapshot.context as { tasks?: Record<string, { name: string; status: string }> })
    .tasks;
  const entries = Object.entries(tasks ?? {});
  const waiting = entries
    .filter(([, t]) => t.status === 'pending' || t.status === 'running')
    .map(([id]) => id);
  const counts = new Map<string, number>();
  for (const [, t] of entries) counts.set(t.status, (counts.get(t.status) ?? 0) + 1);
  const summary =
    entries.length === 0
      ? 'no tasks'
      : `${entries.length} tasks (${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')})`;
  return { waiting, summary, total: entries.length };
}

/** A readable account of where a restored supervisor stands, for a person or an LLM. */
export function restorationMessage(input: {
  stored: SupervisorState;
  snapshot: AnyMachineSnapshot;
  source: RestorationSource;
  restorationCount: number;
  from: Plan['from'];
  checkpointVersion: number | null;
  tasks: string;
  history: readonly JournalEvent[];
  now: number;
}): string {
  const { stored, snapshot } = input;
  const context = snapshot.context as {
    phase?: string | null;
    activity?: string | null;
    progress?: number;
    pendingQuestions?: Array<{ id: string; prompt: string }>;
  };
  const since = stored.lastHeartbeat ?? stored.updatedAt;
  const seconds = Math.max(0, Math.round((input.now - since.getTime()) / 1000));
  const questions = context.pendingQuestions ?? [];
  const lines = [
    `Supervisor ${stored.id} (${stored.machineId} v${stored.machineVersion}) was restored after a ${input.source}` +
      ` (restoration ${input.restorationCount}); it was last seen ${seconds} s ago.`,
    input.from === 'stored'
      ? 'Its last saved state was valid and is resumed as it was.'
      : input.from === 'checkpoint'
        ? `Its last saved state was not valid; it resumes from the checkpoint of version ${input.checkpointVersion}.`
        : 'Neither its last saved state nor any checkpoint was valid; it starts afresh.',
    `State: ${JSON.stringify(snapshot.value)}; phase: ${context.phase ?? 'none'}; activity: ${context.activity ?? 'none'}; progress: ${context.progress ?? 0} %.`,
    questions.length === 0
      ? 'No question is pending.'
      : `Pending questions (asked again): ${questions.map((q) => `${q.id} — ${q.prompt}`).join('; ')}.`,
    `Tasks: ${input.tasks}.`,
    ...(input.history.length === 0
      ? []
      : [
          'Recent history:',
          ...input.history.map(
            (e) => `- v${e.version ?? '?'} ${e.kind} ${JSON.stringify(e.payload).slice(0, 160)}`,
          ),
        ]),
  ];
  return lines.join('\n');
}

/** What a restore did: the seed's RestorationInfo, with why it fell back, if it did. */
export type RestorationInfo = SupervisorRestorationContext & {
  violations: StateViolation[];
  recovery: StateRecoveryAction;
  /** The newest journal entries ("conversation history"), oldest first. */
  history: JournalEvent[];
};

/** How many journal entries a restore hands back per supervisor. */
const HISTORY_ENTRIES = 20;

/** A supervisor rebuilt in memory, not yet counted as restored. */
interface Prepared {
  stored: SupervisorState;
  chosen: Plan;
  hosted: HostedSupervisor;
  source: RestorationSource;
  now: number;
}

/** Validates, falls back if need be, rebuilds the actor and re-arms its timers. */
async function prepare(
  ports: RestorationPorts,
  stored: SupervisorState,
  requested: RestorationSource,
): Promise<Prepared> {
  const chosen = await plan(ports, stored);
  const snapshot = chosen.from === 'fresh' ? undefined : chosen.upgraded.snapshot;
  const hosted = ports.start({
    identity: {
      id: stored.id,
      machineId: stored.machineId,
      machineVersion: chosen.definition.version,
      owner: stored.owner,
    },
    machine: chosen.definition.machine,
    version: stored.version,
    // The row's objects are used once: XState may mutate them while restoring (the dry
    // run of validation worked on a copy).
    ...(snapshot === undefined
      ? { input: stored.input ?? undefined }
      : { snapshot: snapshot as Snapshot<unknown> }),
  });
  const migratedFrom = chosen.from === 'fresh' ? null : chosen.upgraded.migratedFrom;
  if (chosen.from === 'stored') {
    adoptRestored(hosted);
    if (migratedFrom !== null) {
      // Upgraded to a newer machine version: written at once with the version it now has.
      hosted.lastJson = undefined;
      hosted.dirty = true;
      hosted.extraEvents.push({
        supervisorId: stored.id,
        version: null,
        kind: 'snapshot_migrated',
        payload: { from: migratedFrom, to: chosen.definition.version },
      });
    }
    ports.admit(hosted, { ...stored });
  } else {
    // The state changes under the supervisor: written as a new version, journaled with why.
    const checkpointVersion = chosen.from === 'checkpoint' ? chosen.checkpoint.version : null;
    ports.log.warn(
      {
        supervisorId: stored.id,
        from: chosen.from,
        checkpointVersion,
        violations: chosen.violations,
      },
      chosen.from === 'checkpoint'
        ? 'stored state invalid: restoring from a checkpoint'
        : 'stored state and checkpoints invalid: starting afresh',
    );
    hosted.extraEvents.push({
      supervisorId: stored.id,
      version: null,
      kind: 'restoration_fallback',
      payload: { from: chosen.from, checkpointVersion, violations: chosen.violations },
    });
    hosted.dirty = true;
    ports.admit(hosted, null);
  }
  const now = ports.now();
  const timers =
    chosen.from === 'stored'
      ? chosen.timers
      : chosen.from === 'checkpoint'
        ? chosen.checkpoint.timers
        : [];
  rearmTimers(hosted, timers, now, ports.log);
  if (hosted.dirty) ports.capture(hosted);
  const source: RestorationSource = chosen.from === 'checkpoint' ? 'checkpoint' : requested;
  return { stored, chosen, hosted, source, now };
}

/** Re-delivers questions, resumes tasks, and tells the supervisor it was restored. */
async function finish(
  ports: RestorationPorts,
  prepared: Prepared,
  mark: RestoreMark,
  history: JournalEvent[],
): Promise<RestorationInfo> {
  const { stored, chosen, hosted, source, now } = prepared;
  const live = hosted.actor.getSnapshot() as AnyMachineSnapshot;
  if (chosen.from === 'stored') {
    // Whoever answers questions hears of the pending ones again; delivery is idempotent.
    ports.emit(
      stored.pendingQuestions.map((question) => ({
        type: 'question.asked' as const,
        supervisorId: stored.id,
        version: stored.version,
        owner: stored.owner,
        question,
      })),
    );
  }
  const tasks = describeTasks(live);
  const repairs = tasks.total > 0 ? await repairTaskRows(ports, hosted, live) : [];
  if (tasks.waiting.length > 0) await ports.runner.resumeAfterRestore(hosted);
  const checkpointVersion = chosen.from === 'checkpoint' ? chosen.checkpoint.version : null;
  const context = live.context as { phase?: string | null; pendingQuestions?: unknown[] };
  const info: RestorationInfo = {
    supervisorId: stored.id,
    source,
    restorationCount: mark.restorationCount,
    restoredAt: mark.lastRestoredAt,
    state: stored.state,
    phase: context.phase ?? null,
    pendingQuestions: (context.pendingQuestions ??
      []) as SupervisorRestorationContext['pendingQuestions'],
    waitingTaskIds: tasks.waiting,
    checkpointVersion,
    contextMessage: restorationMessage({
      stored,
      snapshot: live,
      source,
      restorationCount: mark.restorationCount,
      from: chosen.from,
      checkpointVersion,
      tasks: tasks.summary,
      history,
      now,
    }),
    violations: [...(chosen.from === 'stored' ? [] : chosen.violations), ...repairs],
    history,
    recovery:
      chosen.from === 'stored'
        ? repairs.length > 0
          ? 'repair'
          : 'proceed'
        : chosen.from === 'checkpoint'
          ? 'restore_from_checkpoint'
          : 'start_fresh',
  };
  const event = {
    type: 'supervisor.restored',
    info: { ...info, restoredAt: info.restoredAt.toISOString() },
  };
  if (live.status === 'active' && live.can(event)) {
    hosted.actor.send(event);
    ports.capture(hosted);
  }
  return info;
}

/**
 * Brings back a supervisor the host passivated while it was idle. The rebuild is a
 * restore's (the stored snapshot, timers re-armed at their deadlines), but nothing was
 * lost: no restore is counted, no question is re-sent, and the machine is not told.
 */
export async function reactivate(
  ports: RestorationPorts,
  stored: SupervisorState,
): Promise<HostedSupervisor> {
  const { hosted } = await prepare(ports, stored, 'restart');
  const live = hosted.actor.getSnapshot() as AnyMachineSnapshot;
  if (describeTasks(live).waiting.length > 0) await ports.runner.resumeAfterRestore(hosted);
  return hosted;
}

/**
 * Restores stored supervisors into the host: the seed's protocol after the rows are
 * loaded (validate → fall back → rebuild → count the restore → re-deliver questions →
 * resume tasks → tell the supervisor). One statement counts the restores of all of them.
 * A supervisor that cannot be restored is reported in `failed` and stops nothing else.
 */
export async function restoreStored(
  ports: RestorationPorts,
  rows: readonly SupervisorState[],
  source: RestorationSource,
): Promise<{ restored: RestorationInfo[]; failed: Array<{ id: string; error: unknown }> }> {
  const prepared: Prepared[] = [];
  const failed: Array<{ id: string; error: unknown }> = [];
  for (const stored of rows) {
    try {
      prepared.push(await prepare(ports, stored, source));
    } catch (error) {
      failed.push({ id: stored.id, error });
    }
  }
  const marks = new Map(
    (
      await ports.store.markRestored(prepared.map((p) => ({ id: p.stored.id, source: p.source })))
    ).map((mark) => [mark.id, mark]),
  );
  const history = await ports.store.recentHistory(
    prepared.map((p) => p.stored.id),
    HISTORY_ENTRIES,
  );
  const restored: RestorationInfo[] = [];
  for (const one of prepared) {
    const mark = marks.get(one.stored.id);
    if (mark) restored.push(await finish(ports, one, mark, history.get(one.stored.id) ?? []));
  }
  return { restored, failed };
}

/** Every stored, unfinished supervisor, a page of 500 at a time in id order. */
export async function* restorablePages(
  store: Pick<SupervisorStore, 'listRestorable'>,
): AsyncGenerator<SupervisorState[]> {
  let afterId: string | undefined;
  for (;;) {
    const page = await store.listRestorable({ limit: 500, ...(afterId ? { afterId } : {}) });
    if (page.length === 0) return;
    afterId = page.at(-1)?.id;
    yield page;
  }
}

/**
 * Restores every stored, unfinished supervisor not already in service, a page of 500 at
 * a time, logging progress (done, failures, rate) and the total time.
 */
export async function restoreAll(
  ports: RestorationPorts,
  inService: (id: string) => boolean,
  source: RestorationSource,
): Promise<{ restored: number; failed: number }> {
  const started = performance.now();
  let restored = 0;
  let failed = 0;
  for await (const page of restorablePages(ports.store)) {
    const result = await restoreStored(
      ports,
      page.filter((stored) => !inService(stored.id)),
      source,
    );
    restored += result.restored.length;
    failed += result.failed.length;
    for (const { id, error } of result.failed) {
      ports.log.error({ supervisorId: id, err: error }, 'supervisor could not be restored');
    }
    const ms = performance.now() - started;
    ports.log.info(
      { restored, failed, ms: Math.round(ms), perSecond: Math.round((restored / ms) * 1000) },
      'restoring',
    );
  }
  ports.log.info(
    { restored, failed, ms: Math.round(performance.now() - started), source },
    'restoration finished',
  );
  return { restored, failed };
}
