// explain mode's capture of the writer's batches: a store that holds them unsent, then
// commits them on a client of its own.
import type pg from 'pg';
import type { Queryable } from '../../src/persistence/database.ts';
import {
  type CommitBatch,
  type CommitResult,
  type SupervisorStore,
  saveSupervisorStateFull,
} from '../../src/persistence/supervisorStore.ts';

/**
 * A store that passes commits through, or, while holding, keeps them unsent: the batches
 * exactly as the writer built them, for the EXPLAIN runs, released (committed) afterwards.
 */
export class HoldingStore {
  readonly store: SupervisorStore;
  #held: Array<{
    batch: CommitBatch;
    resolve: (r: CommitResult) => void;
    reject: (e: Error) => void;
  }> = [];
  #target = 0;
  #onFull: (() => void) | undefined;

  constructor(inner: SupervisorStore) {
    this.store = {
      ...inner,
      commit: (batch) => {
        if (this.#target === 0) return inner.commit(batch);
        return new Promise<CommitResult>((resolve, reject) => {
          this.#held.push({ batch, resolve, reject });
          if (this.#heldRows() >= this.#target) this.#onFull?.();
        });
      },
    };
  }

  #heldRows(): number {
    return this.#held.reduce((n, h) => n + h.batch.states.length, 0);
  }

  /** Resolves with the held batches once they cover `rows` supervisor rows. */
  hold(rows: number): Promise<CommitBatch[]> {
    this.#target = rows;
    return new Promise((resolve) => {
      this.#onFull = () => resolve(this.#held.map((h) => h.batch));
    });
  }

  /**
   * Commits the held batches on `client`, `rowsPerCommit` supervisors per transaction (what
   * the writer sends at 64 in flight), and hands each caller its part of the result.
   */
  async release(client: pg.Client, rowsPerCommit: number): Promise<CommitTiming[]> {
    this.#target = 0;
    const held = this.#held;
    this.#held = [];
    const timings: CommitTiming[] = [];
    const q = queryableOf(client);
    for (let start = 0; start < held.length; ) {
      const group: typeof held = [];
      let rows = 0;
      while (start < held.length && rows < rowsPerCommit) {
        const next = held[start++] as (typeof held)[number];
        group.push(next);
        rows += next.batch.states.length;
      }
      try {
        await client.query('BEGIN');
        const t0 = performance.now();
        const result = await saveSupervisorStateFull(q, mergeBatches(group.map((g) => g.batch)));
        const t1 = performance.now();
        await client.query('COMMIT');
        const t2 = performance.now();
        timings.push({ rows, statementMs: t1 - t0, commitMs: t2 - t1 });
        for (const { batch, resolve } of group) {
          const mine = new Set(batch.states.map((w) => w.id));
          resolve({
            saved: result.saved.filter((id) => mine.has(id)),
            stale: result.stale.filter((s) => mine.has(s.id)),
            fenced: result.fenced.filter((id) => mine.has(id)),
          });
        }
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        for (const { reject } of group) reject(error as Error);
      }
    }
    return timings;
  }
}

interface CommitTiming {
  rows: number;
  statementMs: number;
  commitMs: number;
}

function queryableOf(client: pg.Client): Queryable {
  return {
    async query<Row>(text: string, params?: readonly unknown[]) {
      const result = await client.query(text, params as unknown[] | undefined);
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
    },
    async exec(sql: string) {
      await client.query(sql);
    },
  };
}

/** The writer's batches as one: what it would send with one slot free and all queued. */
export function mergeBatches(batches: readonly CommitBatch[]): CommitBatch {
  return {
    states: batches.flatMap((b) => b.states),
    events: batches.flatMap((b) => b.events),
    checkpoints: batches.flatMap((b) => b.checkpoints),
    tasks: batches.flatMap((b) => b.tasks ?? []),
  };
}
