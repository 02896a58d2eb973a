import { z } from 'zod';

/**
 * Every kind of journal entry (`supervisor_events.kind`), declared once with what an entry
 * of it records and which code writes it. The writers, the readers, the HTTP schema and
 * the table of `docs/protocol.md` (written by `npm run docs:journal`) all take the kinds
 * from here.
 *
 * It lives in the model because every stage uses it: the runtime and the persistence
 * write it, the protocol and the typed client describe it, and all of them may see
 * `src/model`.
 *
 * A kind once released is never renamed nor given another meaning. A runtime refuses to
 * read an entry of a kind it does not declare (`src/persistence/journalRepository.ts`
 * says which entry), so a new kind is read only by runtimes that know it.
 */

/** What the registry says of one kind. */
export interface JournalKindSpec {
  /** What an entry of this kind records, and its payload (one line of docs, markdown). */
  readonly records: string;
  /** The code that writes it (one line of docs, markdown). */
  readonly writtenBy: string;
}

const kind = (records: string, writtenBy: string): JournalKindSpec => ({ records, writtenBy });

const BETWEEN_VIEWS = '`src/runtime/live/capture.ts#journalBetween`, with the snapshot';

/**
 * The registry, in the order docs/protocol.md lists it.
 *
 * @example
 * JOURNAL_REGISTRY.question_answered.writtenBy; // '`src/runtime/live/liveSupervisor.ts#…'
 */
export const JOURNAL_REGISTRY = Object.freeze({
  // Commands from outside (the audit trail)
  command: kind(
    'a command from outside changed the supervisor (`spawn`, `event`, `pause`, `resume`, `cancel`), journaled with the snapshot it causes: `{ command, by, event?, reason?, resumed?, idempotencyKey?, requestHash? }`, `by` being who asked (`{ owner, name, admin, requestId }`, `null` for an embedder\'s own call), the key and hash those of an `Idempotency-Key` request, `resumed: "running"` for a keyed resume that changed nothing else',
    '`src/runtime/commands.ts#commandEntry`, queued on the live supervisor for the snapshot the command causes',
  ),
  retried: kind(
    'a failed or cancelled supervisor was put back to work (`POST /supervisors/:id/retry`), journaled with the snapshot it restarts from; a `restored` entry (source `manual`) counts it: `{ reason, from, checkpointVersion, previousState, by, idempotencyKey?, requestHash?, reply? }`, `reply` being the RestorationInfo the first reply of a keyed retry carried',
    '`src/runtime/restore/retryPlan.ts#rebuildForRetry`, with that snapshot',
  ),
  // Questions
  question_asked: kind(
    'a question appeared among the pending ones: `{ questionId, prompt }`',
    BETWEEN_VIEWS,
  ),
  question_answered: kind(
    'an answer was accepted, journaled with the snapshot it causes (a repeat is found by it): `{ questionId, value, answeredBy, by }` (`by` as for `command`)',
    '`src/runtime/live/liveSupervisor.ts#LiveSupervisor.answer`',
  ),
  question_withdrawn: kind(
    'a question left the pending ones without an answer or an expiry (the machine moved on, e.g. by a timer of its own): `{ questionId }`',
    BETWEEN_VIEWS,
  ),
  question_expired: kind(
    "a question's deadline passed unanswered and the machine took `question.expired`, which removed it: `{ questionId, deadline }`; answers to it are refused from then on",
    BETWEEN_VIEWS,
  ),
  question_reminded: kind(
    "a pending question's reminder came (`remindAfterMs` of `askQuestion`): it was pushed again to clients and webhooks, once: `{ questionId, remindAt }`",
    '`src/runtime/live/followUps.ts#followUpEntry`, with the commit that drops its timer',
  ),
  question_escalated: kind(
    "a pending question's escalation came (`escalate` of `askQuestion`): its audience widened to `audience` (the first one may still answer) and it was asked again with it, once: `{ questionId, at, audience }`",
    '`src/runtime/live/followUps.ts#followUpEntry`, with the commit that drops its timer',
  ),
  // Tasks
  task_spawned: kind(
    'the supervisor spawned a task (its row is written with it): `{ taskId, name, input }`',
    BETWEEN_VIEWS,
  ),
  task_started: kind(
    'the status of a task changed to `running`: `{ taskId, name, status, attempt }`',
    BETWEEN_VIEWS,
  ),
  task_finished: kind(
    'the status of a task changed to one other than `running` (`succeeded`, `failed`, `cancelled`, `interrupted`): `{ taskId, name, status, attempt }`',
    BETWEEN_VIEWS,
  ),
  task_restarted: kind(
    'a task was started again by its supervision policy (a new attempt): `{ taskId, name, attempt, error }`',
    BETWEEN_VIEWS,
  ),
  // The supervisor's course
  phase_changed: kind(
    'the phase changed, the first one included; a checkpoint is kept with it: `{ from, to }`',
    BETWEEN_VIEWS,
  ),
  error: kind(
    'the supervisor became `failed` (by its machine or by the runtime): `{ message, stack? }`, `stack` (its first 4,000 characters) when the actor failed on a thrown Error',
    BETWEEN_VIEWS,
  ),
  // Restoration
  restored: kind(
    'the supervisor was restored into memory: `{ source, restorationCount, by?, idempotencyKey?, requestHash?, reply? }`, `by` when someone asked for it (`POST /supervisors/:id/resume` of one not in memory), `reply` the RestorationInfo a keyed resume answered',
    '`src/persistence/supervisorRepository.ts#markSupervisorRestored`, with the restore count',
  ),
  restoration_fallback: kind(
    'the stored state did not validate, so it was restored from a checkpoint or afresh: `{ from, checkpointVersion, violations }`',
    '`src/runtime/restore/restoration.ts#rebuild`, with the snapshot it restores',
  ),
  snapshot_migrated: kind(
    'a stored snapshot was upgraded to a newer machine version on restore: `{ from, to }`',
    '`src/runtime/restore/restoration.ts#rebuild`, with the upgraded snapshot',
  ),
} satisfies Record<string, JournalKindSpec>);

type Kinds = keyof typeof JOURNAL_REGISTRY;

/** Every journal kind, in registry order. */
export const JOURNAL_KINDS = Object.freeze(Object.keys(JOURNAL_REGISTRY) as Kinds[]);

/**
 * The kind of a journal entry: a member of the registry.
 *
 * @example
 * JournalKind.parse('question_asked'); // 'question_asked'
 * JournalKind.safeParse('step').success; // false
 */
export const JournalKind = z.enum(JOURNAL_KINDS as [Kinds, ...Kinds[]]);
export type JournalKind = z.infer<typeof JournalKind>;

/** True when `value` is a declared journal kind. */
export function isJournalKind(value: unknown): value is JournalKind {
  return JournalKind.safeParse(value).success;
}
