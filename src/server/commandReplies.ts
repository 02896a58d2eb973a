// The replies of the HTTP API's commands as a repeat with the same Idempotency-Key answers
// them: rebuilt from the journal entry the first request committed (idempotency.ts finds
// it). Each is the first reply, field for field.
import type { SupervisorState } from '../model/supervisor.ts';
import type { JournalEvent } from '../model/task.ts';
import type { RestorationInfo } from '../runtime/restore/restoration.ts';

/** `POST /supervisors` (201). */
export function createdReply(entry: JournalEvent): { id: string; version: number } {
  return { id: entry.supervisorId, version: entry.version ?? 0 };
}

/** Events, pause, cancel. */
export function committedReply(entry: JournalEvent): { version: number } {
  return { version: entry.version ?? 0 };
}

/** What a restore's reply is rebuilt from when it was not kept: the supervisor's row now. */
export type StoredRow = (id: string) => Promise<SupervisorState>;

/** Replies of `POST /supervisors/:id/resume`. */
export type ResumeReply =
  | { resumed: 'restored'; restoration: RestorationInfo | ReplayedRestoration }
  | { resumed: 'unpaused' | 'running'; version: number; restoration: null };

/**
 * `POST /supervisors/:id/resume`: a `restored` entry was a restore (its reply kept with
 * it); a `command` entry an unpause, or a resume of one already running (`resumed` says).
 */
export async function resumedReply(entry: JournalEvent, row: StoredRow): Promise<ResumeReply> {
  if (entry.kind === 'restored') {
    return { resumed: 'restored', restoration: await restorationOf(entry, row) };
  }
  const running = (entry.payload as { resumed?: unknown }).resumed === 'running';
  return {
    resumed: running ? 'running' : 'unpaused',
    version: entry.version ?? 0,
    restoration: null,
  };
}

/** `POST /supervisors/:id/retry`. */
export async function retriedReply(
  entry: JournalEvent,
  row: StoredRow,
): Promise<{ retried: true; restoration: RestorationInfo | ReplayedRestoration }> {
  return { retried: true, restoration: await restorationOf(entry, row) };
}

/** A RestorationInfo as JSON gave it back (its dates as strings). */
export type ReplayedRestoration = Omit<RestorationInfo, 'restoredAt' | 'history'> & {
  restoredAt: string | Date;
  history: unknown[];
};

/**
 * The restoration the first reply carried, as the host kept it with the entry. None kept
 * means the runtime stopped between the restore's commits and its reply, which nobody
 * received: a reply is rebuilt from the row, which says where the supervisor stands now.
 */
async function restorationOf(entry: JournalEvent, row: StoredRow): Promise<ReplayedRestoration> {
  const payload = entry.payload as {
    reply?: ReplayedRestoration;
    source?: RestorationInfo['source'];
    from?: unknown;
    checkpointVersion?: unknown;
  };
  if (payload.reply) return payload.reply;
  const stored = await row(entry.supervisorId);
  const checkpointVersion =
    typeof payload.checkpointVersion === 'number' ? payload.checkpointVersion : null;
  return {
    supervisorId: stored.id,
    source: payload.source ?? 'manual',
    restorationCount: Math.max(1, stored.restorationCount),
    restoredAt: stored.lastRestoredAt ?? entry.createdAt,
    state: stored.state,
    phase: stored.phase,
    pendingQuestions: stored.pendingQuestions,
    waitingTaskIds: [],
    checkpointVersion,
    contextMessage: `Supervisor ${stored.id} is ${stored.state}. This reply was rebuilt from the stored row: the runtime stopped before it answered the request the first time.`,
    violations: [],
    recovery:
      payload.from === 'checkpoint'
        ? 'restore_from_checkpoint'
        : payload.from === 'fresh'
          ? 'start_fresh'
          : 'proceed',
    history: [],
  };
}
