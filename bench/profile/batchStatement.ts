// The commit statement of a batch as SQL text and parameters: recorded from
// saveSupervisorStateFull instead of sent, for explain mode to run as it likes.
import type { Queryable } from '../../src/persistence/database.ts';
import {
  type CommitBatch,
  saveSupervisorStateFull,
} from '../../src/persistence/supervisorStore.ts';

/** The part of a batch that concerns some of its supervisors, in the batch's order. */
export function subBatch(batch: CommitBatch, ids: ReadonlySet<string>): CommitBatch {
  return {
    states: batch.states.filter((s) => ids.has(s.id)),
    events: batch.events.filter((e) => ids.has(e.supervisorId)),
    checkpoints: batch.checkpoints.filter((c) => ids.has(c.supervisorId)),
    tasks: (batch.tasks ?? []).filter((t) => ids.has(t.supervisorId)),
  };
}

export interface Statement {
  text: string;
  params: string[];
}

/** The statement and parameters `saveSupervisorStateFull` sends for a batch, not sent. */
export async function statementOf(batch: CommitBatch): Promise<Statement> {
  let captured: Statement | undefined;
  const recorder: Queryable = {
    async query<Row>(text: string, params?: readonly unknown[]) {
      captured = { text, params: (params ?? []) as string[] };
      return { rows: [] as Row[], rowCount: 0 };
    },
    async exec() {},
  };
  await saveSupervisorStateFull(recorder, batch);
  if (!captured) throw new Error('saveSupervisorStateFull sent nothing');
  return captured;
}

/** The states parameter with every snapshot replaced by `{}`: what the snapshot costs. */
export function withoutSnapshots(statement: Statement): Statement {
  const rows = JSON.parse(statement.params[0] as string) as Array<Record<string, unknown>>;
  const small = JSON.stringify(rows.map((r) => ({ ...r, snapshot: {} })));
  return { text: statement.text, params: [small, ...statement.params.slice(1)] };
}
