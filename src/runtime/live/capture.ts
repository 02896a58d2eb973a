import { hash } from 'node:crypto';
import type { AnyActorRef, AnyMachineSnapshot, StateValue } from 'xstate';
import { SupervisorContext } from '../../machines/context.ts';
import { lifecycleOf, otherTagsOf } from '../../machines/lifecycle.ts';
import type { SpawnedTask } from '../../machines/tasks.ts';
import { parentOf, scheduledEvents } from '../../machines/xstateInternals.ts';
import type { JournalKind } from '../../model/journalKinds.ts';
import type { LifecycleState, PendingQuestion, SupervisorWrite } from '../../model/supervisor.ts';
import type { TaskRowWrite } from '../../model/task.ts';
import type { NewJournalEvent } from '../../persistence/journalRepository.ts';

/** Who a supervisor is: what the snapshot itself does not carry. */
export interface SupervisorIdentity {
  id: string;
  machineId: string;
  machineVersion: number;
  owner: string | null;
}

/** The parts of a snapshot the journal and the committed-changes stream compare. */
export interface SupervisorView {
  state: LifecycleState;
  stateValue: string;
  activity: string | null;
  progress: number;
  phase: string | null;
  questions: readonly PendingQuestion[];
  tasks: Readonly<Record<string, SpawnedTask>>;
  errorMessage: string | null;
  /** Where the error came from, when the actor failed on a thrown Error: journaled with it. */
  errorStack?: string;
}

/** The most of a stack the journal keeps: where it broke, not a whole dump. */
const STACK_CHARS = 4_000;

/**
 * The digest a capture's JSON is compared by: SHA-256, so that no snapshot a machine can
 * be made to hold passes for another, and the JSON itself need not be kept.
 */
export function digestOf(json: string): string {
  return hash('sha256', json, 'base64');
}

/**
 * The digest of a snapshot adopted as restored, not made: no capture's digest equals it, so
 * the first capture after a restore is written even if nothing changed (an identical row
 * under the next version), which costs less than digesting every restored supervisor.
 */
export const RESTORED = 'restored';

/** A pending delayed event, with the absolute deadline XState's snapshot does not keep. */
export interface TimerRecord {
  id: string;
  event: unknown;
  dueAt: number;
  /** Child ids from the root to the actor that scheduled it / will receive it. */
  sourcePath: string[];
  targetPath: string[];
}

/** The dotted paths of the active leaf states, `;` between parallel regions. */
export function statePaths(value: StateValue, prefix = ''): string[] {
  if (typeof value === 'string') return [prefix + value];
  // An atomic region of a parallel state has the value `{}`, which has no leaves below it:
  // the region itself is the leaf.
  return Object.entries(value).flatMap(([key, child]) => {
    const below = child === undefined ? [] : statePaths(child as StateValue, `${prefix}${key}.`);
    return below.length > 0 ? below : [prefix + key];
  });
}

/** Child ids from the root down to `actor`. */
function pathOf(actor: AnyActorRef): string[] {
  const path: string[] = [];
  for (let ref = actor, parent = parentOf(ref); parent; ref = parent, parent = parentOf(ref)) {
    path.unshift(ref.id);
  }
  return path;
}

/** The actor system's pending delayed events as absolute deadlines, to be stored. */
export function captureTimers(root: AnyActorRef): TimerRecord[] {
  return scheduledEvents(root).map((s) => ({
    id: s.id,
    event: s.event,
    dueAt: s.dueAt,
    sourcePath: pathOf(s.source),
    targetPath: pathOf(s.target),
  }));
}

/** The first child (at any depth) whose logic is not a registered name, or undefined. */
export function findInlineChild(persisted: unknown, path = ''): string | undefined {
  const children = (persisted as { children?: Record<string, { src: unknown; snapshot: unknown }> })
    ?.children;
  for (const [id, child] of Object.entries(children ?? {})) {
    if (typeof child.src !== 'string') return `${path}${id}`;
    const nested = findInlineChild(child.snapshot, `${path}${id}/`);
    if (nested) return nested;
  }
  return undefined;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : (JSON.stringify(error) ?? 'unknown error');
}

/**
 * Derives what the database stores from a live snapshot. A context that breaks the
 * standard schema makes the row `failed` with the schema's complaint as its error: the
 * columns are never written from anything but a valid snapshot. `validated` is the context
 * as parsed already (a restore validated it), else it is parsed here.
 */
export function deriveView(
  snapshot: AnyMachineSnapshot,
  validated?: SupervisorContext,
): SupervisorView {
  const parsed = validated
    ? { success: true as const, data: validated }
    : SupervisorContext.safeParse(snapshot.context);
  const stateValue = statePaths(snapshot.value).join(';');
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      state: 'failed',
      stateValue,
      activity: null,
      progress: 0,
      phase: null,
      questions: [],
      tasks: {},
      errorMessage: `context breaks the supervisor schema at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    };
  }
  const context = parsed.data;
  const errorMessage =
    context.error?.message ?? (snapshot.status === 'error' ? messageOf(snapshot.error) : null);
  const thrown = snapshot.status === 'error' && snapshot.error instanceof Error;
  const stack = thrown ? (snapshot.error as Error).stack : undefined;
  return {
    ...(stack ? { errorStack: stack.slice(0, STACK_CHARS) } : {}),
    state: lifecycleOf(snapshot),
    stateValue,
    activity: context.activity,
    progress: context.progress,
    phase: context.phase,
    questions: context.pendingQuestions,
    tasks: context.tasks,
    errorMessage,
  };
}

/** The row for a snapshot. `persisted` is the persisted snapshot, as captured (RawJson). */
export function toWrite(
  identity: SupervisorIdentity,
  view: SupervisorView,
  snapshot: AnyMachineSnapshot,
  persisted: unknown,
  timers: TimerRecord[],
  version: number,
  xstateVersion: string,
  input: unknown = null,
): SupervisorWrite {
  // Written out, not spread: a spread here cost more than the rest of the capture (the
  // profile in bench/profile.md).
  return {
    id: identity.id,
    machineId: identity.machineId,
    machineVersion: identity.machineVersion,
    owner: identity.owner,
    snapshot: persisted,
    input,
    xstateVersion,
    timers,
    version,
    state: view.state,
    stateValue: view.stateValue,
    tags: otherTagsOf(snapshot),
    currentActivity: view.activity,
    progress: view.progress,
    phase: view.phase,
    errorMessage: view.errorMessage,
    spawnedTaskIds: Object.keys(view.tasks),
    pendingQuestions: [...view.questions],
    workInFlight: hasWorkInFlight(snapshot, view),
  };
}

/** A task pending or running, or an invoked or spawned actor alive: it must run at once. */
function hasWorkInFlight(snapshot: AnyMachineSnapshot, view: SupervisorView): boolean {
  if (Object.keys(snapshot.children ?? {}).length > 0) return true;
  return Object.values(view.tasks).some((t) => t.status === 'pending' || t.status === 'running');
}

/**
 * The journal entries between two consecutive views of a supervisor, whether the new one
 * is a checkpoint (its phase changed), and the task rows that changed. Questions removed by an answer are journaled by
 * the answer itself (`answered` holds their ids); those removed by the machine taking their
 * expiry (`expired`) are expiries; any other removal is a withdrawal.
 */
export function journalBetween(
  supervisorId: string,
  version: number,
  before: SupervisorView | null,
  after: SupervisorView,
  // Undefined for none: a supervisor's collections are made on first use (an idle one has none).
  answered: ReadonlySet<string> | undefined,
  expired: ReadonlySet<string> = new Set(),
): { events: NewJournalEvent[]; checkpoint: boolean; tasks: TaskRowWrite[] } {
  const events: NewJournalEvent[] = [];
  const { stateValue } = after;
  const add = (kind: JournalKind, payload: unknown) =>
    events.push({ supervisorId, version, kind, payload, stateValue });

  const beforeQuestions = new Set(before?.questions.map((q) => q.id));
  const afterQuestions = new Set(after.questions.map((q) => q.id));
  for (const question of after.questions) {
    if (!beforeQuestions.has(question.id)) {
      add('question_asked', { questionId: question.id, prompt: question.prompt });
    }
  }
  for (const question of before?.questions ?? []) {
    const questionId = question.id;
    if (afterQuestions.has(questionId) || answered?.has(questionId)) continue;
    if (expired.has(questionId))
      add('question_expired', { questionId, deadline: question.deadline });
    else add('question_withdrawn', { questionId });
  }
  const tasks: TaskRowWrite[] = [];
  for (const [taskId, task] of Object.entries(after.tasks)) {
    const previous = before?.tasks[taskId];
    if (previous === task) continue;
    if (!previous) add('task_spawned', { taskId, name: task.name, input: task.input });
    else if (previous.attempt !== task.attempt) {
      add('task_restarted', { taskId, name: task.name, attempt: task.attempt, error: task.error });
    } else if (previous.status !== task.status) {
      add(task.status === 'running' ? 'task_started' : 'task_finished', {
        taskId,
        name: task.name,
        status: task.status,
        attempt: task.attempt,
      });
    }
    tasks.push(toTaskRow(supervisorId, taskId, task));
  }
  // The first phase counts too: it gives restoration a checkpoint to fall back to.
  const checkpoint = after.phase !== null && before?.phase !== after.phase;
  if (checkpoint) add('phase_changed', { from: before?.phase ?? null, to: after.phase });
  if (after.state === 'failed' && before?.state !== 'failed') {
    add('error', {
      message: after.errorMessage,
      ...(after.errorStack ? { stack: after.errorStack } : {}),
    });
  }
  return { events, checkpoint, tasks };
}

/** The task row a task entry of the context is stored as. */
export function toTaskRow(supervisorId: string, id: string, task: SpawnedTask): TaskRowWrite {
  return {
    id,
    supervisorId,
    name: task.name,
    status: task.status,
    input: task.input,
    result: task.result ?? null,
    error: task.error,
    attempt: task.attempt,
    policy: task.policy,
    restarts: task.restarts,
  };
}
