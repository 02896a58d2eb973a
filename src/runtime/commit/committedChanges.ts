import {
  type LifecycleState,
  type PendingQuestion,
  type SupervisorWrite,
  TERMINAL_STATES,
} from '../../model/supervisor.ts';

interface ChangeBase {
  supervisorId: string;
  /** The committed version that recorded the change. */
  version: number;
  owner: string | null;
}

/** A change the outside world may see: emitted only after the commit that records it. */
export type CommittedChange =
  | (ChangeBase & {
      type: 'question.asked';
      question: PendingQuestion;
      /**
       * Set when it is asked again, still pending, because its reminder (`question_reminded`)
       * or its escalation (`question_escalated`) came in this commit.
       */
      followUp?: 'reminder' | 'escalation';
    })
  | (ChangeBase & {
      type: 'question.resolved';
      questionId: string;
      /**
       * `expired`: its deadline passed and the machine took `question.expired` (journaled
       * `question_expired`), or the machine withdrew it at or after its deadline.
       */
      resolution: 'answered' | 'withdrawn' | 'expired';
    })
  | (ChangeBase & {
      type: 'status.changed';
      state: LifecycleState;
      previousState: LifecycleState | null;
      stateValue: string;
      activity: string | null;
      progress: number;
      phase: string | null;
    })
  | (ChangeBase & {
      type: 'supervisor.finished';
      state: LifecycleState;
      error: string | null;
    });

/** The journal kinds of follow-ups: each asks its question again. */
const FOLLOW_UPS: Readonly<Record<string, 'reminder' | 'escalation'>> = Object.freeze({
  question_reminded: 'reminder',
  question_escalated: 'escalation',
});

/** What the stream compares between two commits of a supervisor. */
export type CommittedView = Pick<
  SupervisorWrite,
  | 'version'
  | 'owner'
  | 'state'
  | 'stateValue'
  | 'currentActivity'
  | 'progress'
  | 'phase'
  | 'pendingQuestions'
  | 'errorMessage'
>;

/** The part of a committed write the stream keeps until the next commit. */
export function viewOf(write: CommittedView): CommittedView {
  return {
    version: write.version,
    owner: write.owner,
    state: write.state,
    stateValue: write.stateValue,
    currentActivity: write.currentActivity,
    progress: write.progress,
    phase: write.phase,
    pendingQuestions: write.pendingQuestions,
    errorMessage: write.errorMessage,
  };
}

/**
 * A commit as the stream compares it: the write and the journal entries committed with
 * it (a `CommittedWrite` here; another node's row and journal for the change feed).
 */
export interface CommittedRecord {
  write: CommittedView & { id: string };
  events: readonly { kind: string; payload?: unknown }[];
}

/** Receives committed changes, in commit order. */
export type ChangeListener = (change: CommittedChange) => void;

/** True for lifecycle states a supervisor never leaves. */
export function isTerminal(state: LifecycleState): boolean {
  return TERMINAL_STATES.includes(state);
}

/**
 * The changes between the last committed write of a supervisor and a newly committed one. Answered questions are told apart from withdrawn ones by the journal entries
 * committed with the write.
 */
export function changesOf(
  before: CommittedView | null,
  committed: CommittedRecord,
): CommittedChange[] {
  const { write: after } = committed;
  const write = after;
  // Each change names these three, written out rather than spread (spreads showed in the
  // answer path's profile, bench/profile.md).
  const supervisorId = write.id;
  const { version, owner } = write;
  const changes: CommittedChange[] = [];
  const beforeIds = new Set(before?.pendingQuestions.map((q) => q.id));
  const afterIds = new Set(after.pendingQuestions.map((q) => q.id));
  for (const question of after.pendingQuestions) {
    if (!beforeIds.has(question.id))
      changes.push({ supervisorId, version, owner, type: 'question.asked', question });
  }
  for (const event of committed.events) {
    const followUp = FOLLOW_UPS[event.kind];
    if (followUp === undefined) continue;
    const { questionId } = event.payload as { questionId: string };
    const question = after.pendingQuestions.find((q) => q.id === questionId);
    if (question && beforeIds.has(questionId))
      changes.push({ supervisorId, version, owner, type: 'question.asked', question, followUp });
  }
  const resolvedBy = (kind: string) =>
    new Set(
      committed.events
        .filter((e) => e.kind === kind)
        .map((e) => (e.payload as { questionId: string }).questionId),
    );
  const answered = resolvedBy('question_answered');
  const expiredNow = resolvedBy('question_expired');
  for (const question of before?.pendingQuestions ?? []) {
    if (afterIds.has(question.id)) continue;
    const expired =
      expiredNow.has(question.id) ||
      (question.deadline !== undefined && Date.parse(question.deadline) <= Date.now());
    changes.push({
      supervisorId,
      version,
      owner,
      type: 'question.resolved',
      questionId: question.id,
      resolution: answered.has(question.id) ? 'answered' : expired ? 'expired' : 'withdrawn',
    });
  }
  if (
    !before ||
    before.state !== after.state ||
    before.stateValue !== after.stateValue ||
    before.currentActivity !== after.currentActivity ||
    before.progress !== after.progress ||
    before.phase !== after.phase
  ) {
    changes.push({
      supervisorId,
      version,
      owner,
      type: 'status.changed',
      state: after.state,
      previousState: before?.state ?? null,
      stateValue: after.stateValue,
      activity: after.currentActivity,
      progress: after.progress,
      phase: after.phase,
    });
  }
  if (isTerminal(after.state) && (!before || !isTerminal(before.state))) {
    changes.push({
      supervisorId,
      version,
      owner,
      type: 'supervisor.finished',
      state: after.state,
      error: after.errorMessage,
    });
  }
  return changes;
}
