// The seed's restoration protocol, as steps that build live supervisors and hand them back:
// the host puts them in service between the steps. Load → validate → fall back → rebuild
// (this file's `rebuild`), count the restores (`countRestores`), re-deliver questions
// (`resentQuestions`), resume tasks and tell the supervisor (`finishRestore`).
import type { AnyStateMachine, InspectionEvent, Snapshot } from 'xstate';
import type { Logger } from '../../logger.ts';
import type { MachineRegistry } from '../../machines/registry.ts';
import type { SpawnedTask } from '../../machines/tasks.ts';
import type { CommandOptions } from '../../model/requester.ts';
import type {
  StateRecoveryAction,
  StateViolation,
  SupervisorRestorationContext,
} from '../../model/restoration.ts';
import type { RestorationSource, SupervisorState } from '../../model/supervisor.ts';
import type { JournalEvent, TaskRecord } from '../../model/task.ts';
import type { RestoreMark } from '../../persistence/supervisorRepository.ts';
import type { SupervisorStore } from '../../persistence/supervisorStore.ts';
import { validateTaskRows } from '../../persistence/taskRepository.ts';
import type { CommittedChange } from '../commit/committedChanges.ts';
import { type TimerRecord, toTaskRow } from '../live/capture.ts';
import { type LiveObserver, LiveSupervisor } from '../live/liveSupervisor.ts';
import type { TaskRunner } from '../taskRunner.ts';
import { describeTasks, restorationMessage } from './restorationMessage.ts';
import { fallBack, type Plan, plan } from './restorePlan.ts';
import { cannotTake } from './snapshotValidation.ts';

/** What rebuilding supervisors from their rows needs. */
export interface RestoreDeps {
  store: SupervisorStore;
  registry: MachineRegistry;
  log: Logger;
  /** Given to every live supervisor rebuilt. */
  observer: LiveObserver;
  inspect?: ((event: InspectionEvent) => void) | undefined;
}

/** A supervisor rebuilt in memory from its row, not yet in service nor counted as restored. */
export interface Rebuilt {
  stored: SupervisorState;
  chosen: Plan;
  live: LiveSupervisor;
  source: RestorationSource;
  now: number;
  /** Rebuilt by a retry (retryPlan.ts): finished, and put back to work on purpose. */
  retried?: boolean;
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

/**
 * Validates the stored state (falling back to a checkpoint, or afresh), rebuilds the actor
 * and re-arms its timers. The live supervisor it returns is not in service yet; its
 * `committed` view is the stored row when restored as stored (nothing to write), null
 * otherwise (it writes itself anew).
 */
export async function rebuild(
  deps: RestoreDeps,
  stored: SupervisorState,
  requested: RestorationSource,
): Promise<Rebuilt> {
  let chosen = await plan(deps, stored, false);
  let live = liveFrom(deps, stored, chosen, false);
  // The real actor is the dry run of the stored snapshot (the plan did not try it).
  const refused = chosen.from === 'stored' ? cannotTake(live.snapshot()) : undefined;
  if (refused) {
    live.stop();
    chosen = await fallBack(deps, stored, [refused]);
    live = liveFrom(deps, stored, chosen, false);
  }
  live.start();
  if (chosen.from === 'stored') {
    live.adoptRestored(chosen.context);
    const migratedFrom = chosen.upgraded.migratedFrom;
    if (migratedFrom !== null) {
      // Upgraded to a newer machine version: written at once with the version it now has.
      live.rewrite();
      live.record({
        kind: 'snapshot_migrated',
        payload: { from: migratedFrom, to: chosen.definition.version },
      });
    }
  } else {
    // The state changes under the supervisor: written as a new version, journaled with why.
    const checkpointVersion = chosen.from === 'checkpoint' ? chosen.checkpoint.version : null;
    deps.log.warn(
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
    live.record({
      kind: 'restoration_fallback',
      payload: { from: chosen.from, checkpointVersion, violations: chosen.violations },
    });
  }
  const now = rearm(deps, live, chosen);
  const source: RestorationSource = chosen.from === 'checkpoint' ? 'checkpoint' : requested;
  return { stored, chosen, live, source, now };
}

/**
 * The actor of a stored supervisor as `chosen` says (its snapshot, a checkpoint's, or a
 * fresh start from its stored input), not started on anything yet; versions go on from the
 * row's. Started unless `start` is false (then the caller checks it and starts it).
 */
export function liveFrom(
  deps: RestoreDeps,
  stored: SupervisorState,
  chosen: Plan,
  start = true,
): LiveSupervisor {
  const snapshot = chosen.from === 'fresh' ? undefined : chosen.upgraded.snapshot;
  return new LiveSupervisor({
    start,
    identity: {
      id: stored.id,
      machineId: stored.machineId,
      machineVersion: chosen.definition.version,
      owner: stored.owner,
    },
    machine: chosen.definition.machine,
    version: stored.version,
    observer: deps.observer,
    inspect: deps.inspect,
    // The row's objects are used once: XState may mutate them while restoring (a dry run
    // of validation works on a copy).
    ...(snapshot === undefined
      ? { input: stored.input ?? undefined }
      : { snapshot: snapshot as Snapshot<unknown> }),
  });
}

/** Re-arms the timers of what `chosen` restores (none afresh); returns the time it used. */
export function rearm(deps: Pick<RestoreDeps, 'log'>, live: LiveSupervisor, chosen: Plan): number {
  const now = Date.now();
  const timers =
    chosen.from === 'stored'
      ? chosen.timers
      : chosen.from === 'checkpoint'
        ? chosen.checkpoint.timers
        : [];
  for (const timer of live.rearm(timers as TimerRecord[], now)) {
    deps.log.warn({ supervisorId: live.id, timer }, 'timer target is gone');
  }
  return now;
}

/**
 * Counts the restores, all in one statement (journaled with `by`, who asked, when someone
 * did, and the idempotency key it came with), and reads each one's recent history.
 */
export async function countRestores(
  store: SupervisorStore,
  rebuilt: readonly Rebuilt[],
  asked: CommandOptions = {},
  withHistory: (one: Rebuilt) => boolean = () => true,
): Promise<Map<string, { mark: RestoreMark; history: JournalEvent[] }>> {
  const { by = null, idempotency } = asked;
  const marks = await store.markRestored(
    rebuilt.map((r) => ({ id: r.stored.id, source: r.source, by, idempotency })),
  );
  const wanted = rebuilt.filter(withHistory).map((r) => r.stored.id);
  const history = wanted.length > 0 ? await store.recentHistory(wanted, HISTORY_ENTRIES) : null;
  return new Map(marks.map((mark) => [mark.id, { mark, history: history?.get(mark.id) ?? [] }]));
}

/** Machines by whether any of their states has a transition for the restoration notice. */
const noticeTakers = new WeakMap<AnyStateMachine, boolean>();

/**
 * Whether some state of `machine` has a transition for `supervisor.restored` (guards aside):
 * when none has, nobody reads a restore's RestorationInfo unless its caller asked for it,
 * and its history need not be read nor its message written.
 */
export function takesNotice(machine: AnyStateMachine): boolean {
  let takes = noticeTakers.get(machine);
  if (takes === undefined) {
    takes = someNodeTakes(machine.root, 'supervisor.restored');
    noticeTakers.set(machine, takes);
  }
  return takes;
}

interface EventTaker {
  transitions: Map<string, unknown>;
  states: Record<string, EventTaker>;
}

function someNodeTakes(node: EventTaker, type: string): boolean {
  for (const descriptor of node.transitions.keys()) {
    if (descriptor === type || descriptor === '*') return true;
    if (descriptor.endsWith('.*') && type.startsWith(descriptor.slice(0, -1))) return true;
  }
  return Object.values(node.states).some((child) => someNodeTakes(child, type));
}

/**
 * The questions asked again of whoever answers: every pending one of a supervisor restored
 * as stored (delivery is idempotent). One restored otherwise asks its own as it writes.
 */
export function resentQuestions(rebuilt: Rebuilt): CommittedChange[] {
  const { stored } = rebuilt;
  if (rebuilt.chosen.from !== 'stored') return [];
  return askedAgain(stored);
}

/** The pending questions of a row, asked again (of a supervisor rebuilt or not). */
export function askedAgain(
  row: Pick<SupervisorState, 'id' | 'owner' | 'version' | 'pendingQuestions'>,
): CommittedChange[] {
  return row.pendingQuestions.map((question) => ({
    type: 'question.asked' as const,
    supervisorId: row.id,
    version: row.version,
    owner: row.owner,
    question,
  }));
}

type FinishDeps = Pick<RestoreDeps, 'store' | 'log'> & {
  runner: Pick<TaskRunner, 'resumeAfterRestore'>;
};

/** A restore counted, and the history read for it (none when its info is not wanted). */
type Counted = { mark: RestoreMark; history: JournalEvent[] };

/**
 * The last steps, once the supervisor is in service: task rows repaired from the snapshot,
 * tasks resumed, and the supervisor told with a `supervisor.restored` event carrying the
 * RestorationInfo (its context message among it). With `inform` false the caller does not
 * want the RestorationInfo: it is made only for a machine that takes the notice.
 */
export async function finishRestore(
  deps: FinishDeps,
  rebuilt: Rebuilt,
  counted: Counted,
  taskRows?: readonly TaskRecord[],
  inform?: true,
): Promise<RestorationInfo>;
export async function finishRestore(
  deps: FinishDeps,
  rebuilt: Rebuilt,
  counted: Counted,
  taskRows: readonly TaskRecord[] | undefined,
  inform: boolean,
): Promise<RestorationInfo | undefined>;
export async function finishRestore(
  deps: FinishDeps,
  rebuilt: Rebuilt,
  counted: Counted,
  taskRows?: readonly TaskRecord[],
  inform = true,
): Promise<RestorationInfo | undefined> {
  const { stored, chosen, live, source, now } = rebuilt;
  const { mark, history } = counted;
  const context = live.context();
  const tasks = describeTasks(context);
  const repairs = tasks.total > 0 ? await repairTaskRows(deps, rebuilt, taskRows) : [];
  // Rows read with the page are still what the runner needs, unless a repair rewrote them.
  const rows = repairs.length === 0 ? taskRows : undefined;
  if (tasks.waiting.length > 0) await deps.runner.resumeAfterRestore(live, rows);
  if (!inform && !takesNotice(chosen.definition.machine)) return undefined;
  const checkpointVersion = chosen.from === 'checkpoint' ? chosen.checkpoint.version : null;
  const info: RestorationInfo = {
    supervisorId: stored.id,
    source,
    restorationCount: mark.restorationCount,
    restoredAt: mark.lastRestoredAt,
    state: stored.state,
    phase: context.phase ?? null,
    pendingQuestions: context.pendingQuestions ?? [],
    waitingTaskIds: tasks.waiting,
    checkpointVersion,
    contextMessage: restorationMessage({
      stored,
      stateValue: live.snapshot().value,
      context,
      source,
      restorationCount: mark.restorationCount,
      from: chosen.from,
      retried: rebuilt.retried === true,
      checkpointVersion,
      tasks: tasks.summary,
      history,
      now,
    }),
    violations: [...(chosen.from === 'stored' ? [] : chosen.violations), ...repairs],
    history,
    recovery: recoveryOf(chosen.from, repairs.length > 0),
  };
  live.offer({
    type: 'supervisor.restored',
    info: { ...info, restoredAt: info.restoredAt.toISOString() },
  });
  return info;
}

function recoveryOf(from: Plan['from'], repaired: boolean): StateRecoveryAction {
  if (from === 'checkpoint') return 'restore_from_checkpoint';
  if (from === 'fresh') return 'start_fresh';
  return repaired ? 'repair' : 'proceed';
}

/**
 * Applies the repairs task validation names (the snapshot is the truth): rows it describes
 * are written from it, rows it does not know are cancelled. Outcomes a row recorded ahead
 * are delivered by the task runner instead.
 */
async function repairTaskRows(
  deps: Pick<RestoreDeps, 'store' | 'log'>,
  { live, stored }: Pick<Rebuilt, 'live' | 'stored'>,
  taskRows: readonly TaskRecord[] | undefined,
): Promise<StateViolation[]> {
  const { violations } = taskRows
    ? validateTaskRows(stored, taskRows)
    : await deps.store.validateTasks(live.id);
  const tasks: Record<string, SpawnedTask> = live.context().tasks ?? {};
  const rewrite = violations
    .filter((v) => v.action === 'write_row' && v.subject && tasks[v.subject])
    .map((v) => toTaskRow(live.id, v.subject as string, tasks[v.subject as string] as SpawnedTask));
  const cancel = violations
    .filter((v) => v.action === 'cancel_row' && v.subject)
    .map((v) => v.subject as string);
  if (rewrite.length === 0 && cancel.length === 0) return [];
  deps.log.warn(
    { supervisorId: live.id, violations },
    'task rows disagreed with the snapshot; repaired from it',
  );
  await deps.store.repairTasks(rewrite, cancel);
  return violations.filter((v) => v.action === 'write_row' || v.action === 'cancel_row');
}

/**
 * Restores page after page (`restorePage` restores the rows of one), logging progress
 * (done, failures, rate) and the total time; one that cannot be restored is logged and
 * stops nothing else.
 */
export async function restoreInPages(
  pages: AsyncIterable<SupervisorState[]>,
  restorePage: (
    rows: SupervisorState[],
  ) => Promise<{ restored: number; failed: Array<{ id: string; error: unknown }> }>,
  log: Logger,
  source: RestorationSource,
): Promise<{ restored: number; failed: number }> {
  const started = performance.now();
  let restored = 0;
  let failed = 0;
  for await (const page of pages) {
    const result = await restorePage(page);
    restored += result.restored;
    failed += result.failed.length;
    for (const { id, error } of result.failed) {
      log.error({ supervisorId: id, err: error }, 'supervisor could not be restored');
    }
    const ms = performance.now() - started;
    log.info(
      { restored, failed, ms: Math.round(ms), perSecond: Math.round((restored / ms) * 1000) },
      'restoring',
    );
  }
  log.info(
    { restored, failed, ms: Math.round(performance.now() - started), source },
    'restoration finished',
  );
  return { restored, failed };
}
