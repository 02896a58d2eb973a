import type { SupervisorState, SupervisorWrite } from '../model/supervisor.ts';
import type { Database } from './database.ts';
import { type FleetFilter, listSupervisors } from './fleetQueries.ts';
import {
  appendEvents,
  type NewCheckpoint,
  type NewJournalEvent,
  saveCheckpoints,
} from './journalRepository.ts';
import {
  getSupervisor,
  type SaveStatesResult,
  saveStates,
  updateHeartbeats,
} from './supervisorRepository.ts';

/** Everything one group commit writes: snapshots, the journal entries they caused, checkpoints. */
export interface CommitBatch {
  states: readonly SupervisorWrite[];
  events: readonly NewJournalEvent[];
  checkpoints: readonly NewCheckpoint[];
}

/** A recorded answer to a question, found in the journal. */
export interface RecordedAnswer {
  version: number | null;
  value: unknown;
}

/**
 * What the runtime needs from the database, and nothing more: the runtime sees persistence
 * only through this interface.
 */
export interface SupervisorStore {
  /**
   * Writes a batch in one transaction. Journal entries and checkpoints of a supervisor
   * whose write was stale (an equal or newer version is stored) are left out with it.
   */
  commit(batch: CommitBatch): Promise<SaveStatesResult>;
  getSupervisor(id: string): Promise<SupervisorState | null>;
  listSupervisors(filter?: FleetFilter): Promise<SupervisorState[]>;
  /** The journaled answer to a question of a supervisor, or `null`. */
  findAnswer(supervisorId: string, questionId: string): Promise<RecordedAnswer | null>;
  /** The lightweight heartbeat save point: touches `last_heartbeat` only. */
  touchHeartbeats(ids: readonly string[]): Promise<number>;
}

/** The store over a database. */
export function createSupervisorStore(db: Database): SupervisorStore {
  return {
    commit(batch) {
      return db.transaction(async (tx) => {
        const result = await saveStates(tx, batch.states);
        const stale = new Set(result.stale);
        await appendEvents(
          tx,
          stale.size ? batch.events.filter((e) => !stale.has(e.supervisorId)) : batch.events,
        );
        await saveCheckpoints(
          tx,
          stale.size
            ? batch.checkpoints.filter((c) => !stale.has(c.supervisorId))
            : batch.checkpoints,
        );
        return result;
      });
    },
    getSupervisor: (id) => getSupervisor(db, id),
    listSupervisors: (filter) => listSupervisors(db, filter),
    async findAnswer(supervisorId, questionId) {
      const { rows } = await db.query<{
        version: string | number | null;
        payload: { value?: unknown };
      }>(
        `SELECT version, payload FROM supervisor_events
         WHERE supervisor_id = $1 AND kind = 'question_answered' AND payload->>'questionId' = $2
         ORDER BY id LIMIT 1`,
        [supervisorId, questionId],
      );
      const row = rows[0];
      if (!row) return null;
      return {
        version: row.version === null ? null : Number(row.version),
        value: row.payload.value,
      };
    },
    touchHeartbeats: (ids) => updateHeartbeats(db, ids),
  };
}
