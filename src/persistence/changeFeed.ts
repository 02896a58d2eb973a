import { z } from 'zod';
import { LifecycleState, PendingQuestion } from '../model/supervisor.ts';
import type { Queryable } from './database.ts';

/** The channel a node notifies after its commits, so that the others read the journal. */
export const JOURNAL_CHANNEL = 'steward_journal_grew';

/** A journal entry as the change feed reads it. */
export interface FeedEntry {
  id: number;
  supervisorId: string;
  version: number | null;
  kind: string;
  payload: unknown;
}

/** What subscribers are told of a supervisor: its row's committed view. */
export interface FeedView {
  id: string;
  version: number;
  owner: string | null;
  state: LifecycleState;
  stateValue: string;
  currentActivity: string | null;
  progress: number;
  phase: string | null;
  pendingQuestions: PendingQuestion[];
  errorMessage: string | null;
}

const Questions = z.array(PendingQuestion);

/**
 * What a node reads to hear the changes other nodes commit (src/runtime/forwarding/
 * remoteChanges.ts): the journal after a cursor, and the rows it names.
 */
export interface ChangeFeedStore {
  /** The newest journal entry's id (0 for none): where a node starts listening. */
  head(): Promise<number>;
  /** Journal entries after `cursor`, and those of `holes` (ids skipped so far), by id. */
  after(cursor: number, holes: readonly number[], limit: number): Promise<FeedEntry[]>;
  /** The committed views of these supervisors. */
  views(ids: readonly string[]): Promise<FeedView[]>;
  /** Wakes the other nodes' feeds. */
  notify(): Promise<void>;
}

export function createChangeFeedStore(db: Queryable): ChangeFeedStore {
  return {
    async head() {
      const { rows } = await db.query<{ id: string | null }>(
        'SELECT max(id) AS id FROM supervisor_events',
      );
      return Number(rows[0]?.id ?? 0);
    },
    async after(cursor, holes, limit) {
      const { rows } = await db.query<{
        id: string;
        supervisor_id: string;
        version: string | null;
        kind: string;
        payload: unknown;
      }>(
        `SELECT id, supervisor_id, version, kind, payload FROM supervisor_events
          WHERE id > $1 OR id = ANY($2::bigint[])
          ORDER BY id LIMIT $3`,
        [cursor, holes, limit],
      );
      return rows.map((row) => ({
        id: Number(row.id),
        supervisorId: row.supervisor_id,
        version: row.version === null ? null : Number(row.version),
        kind: row.kind,
        payload: row.payload,
      }));
    },
    async views(ids) {
      if (ids.length === 0) return [];
      const { rows } = await db.query<{
        id: string;
        version: string;
        owner: string | null;
        state: string;
        state_value: string;
        current_activity: string | null;
        progress: number;
        phase: string | null;
        pending_questions: unknown;
        error_message: string | null;
      }>(
        `SELECT id, version, owner, state, state_value, current_activity, progress, phase,
                pending_questions, error_message
           FROM supervisor_states WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      return rows.map((row) => ({
        id: row.id,
        version: Number(row.version),
        owner: row.owner,
        state: LifecycleState.parse(row.state),
        stateValue: row.state_value,
        currentActivity: row.current_activity,
        progress: row.progress,
        phase: row.phase,
        pendingQuestions: Questions.parse(row.pending_questions),
        errorMessage: row.error_message,
      }));
    },
    async notify() {
      await db.query(`SELECT pg_notify('${JOURNAL_CHANNEL}', '')`);
    },
  };
}
