// bench/million.ts's seed: two genuine reference supervisors written by the real host, one
// waiting and one finished, then cloned server-side to the requested counts.
import { createMachineRegistry } from '../../src/machines/registry.ts';
import type { Database } from '../../src/persistence/database.ts';
import { createSupervisorStore } from '../../src/persistence/supervisorStore.ts';
import { createSupervisorHost } from '../../src/runtime/supervisorHost.ts';
import { millionMachineDefinition } from '../million.config.ts';
import { fmt } from '../support.ts';

/** Rows one clone statement inserts. */
const CHUNK = 100_000;
const OWNER = 'bench';
/** A plan without steps: approving it leads straight to the final approval (no tasks). */
const PLAN = { goal: 'publish the quarterly report', steps: [] as string[] };

/** What seeding left in the table. */
export interface Seeded {
  seconds: number;
  tableBytes: number;
  /** Pending questions of a waiting row, and of one after its first answer. */
  questionsWaiting: number;
  questionsAfterAnswer: number;
  /** The question a waiting row asks, and the one asked after it is answered. */
  firstQuestionId: string;
  nextQuestionId: string;
}

/** The row of one genuine supervisor, cloned `copies` times server-side, chunk by chunk. */
async function cloneRow(db: Database, id: string, copies: number, what: string): Promise<void> {
  // Every column the host wrote, except the key and what PostgreSQL generates itself.
  const { rows } = await db.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = 'supervisor_states'
       AND column_name <> 'id' AND is_generated = 'NEVER'
     ORDER BY ordinal_position`,
  );
  const columns = rows.map((r) => r.column_name).join(', ');
  const sql = `INSERT INTO supervisor_states (id, ${columns})
     SELECT gen_random_uuid(), ${columns}
     FROM supervisor_states, generate_series(1, $2::integer)
     WHERE id = $1`;
  let done = 0;
  while (done < copies) {
    const n = Math.min(CHUNK, copies - done);
    const started = performance.now();
    await db.query(sql, [id, n]);
    done += n;
    console.log(
      `  seed: ${fmt(done)} / ${fmt(copies)} ${what} clones (${fmt(n / ((performance.now() - started) / 1000))} rows/s)`,
    );
  }
}

/** Seeds `waitingCount` waiting and `finishedCount` finished supervisors. */
export async function seed(
  db: Database,
  waitingCount: number,
  finishedCount: number,
): Promise<Seeded> {
  const started = performance.now();
  const registry = createMachineRegistry();
  registry.register(millionMachineDefinition);
  const host = createSupervisorHost({
    store: createSupervisorStore(db),
    registry,
    heartbeatIntervalMs: 0,
  });
  let seeds: { waiting: string; finished: string };
  let questionsAfterAnswer: number;
  let nextQuestionId: string;
  try {
    // Two real supervisors through the real host: one left waiting on its plan approval,
    // one taken through both of its questions to `completed`.
    const waiting = await host.spawn('reference', PLAN, { owner: OWNER });
    const finished = await host.spawn('reference', PLAN, { owner: OWNER });
    const asked = host.committed(finished.id)?.pendingQuestions ?? [];
    const first = asked[0];
    if (asked.length !== 1 || !first) throw new Error(`seed asked ${asked.length} questions`);
    await host.answer(finished.id, first.id, true);
    const after = host.committed(finished.id)?.pendingQuestions ?? [];
    questionsAfterAnswer = after.length;
    const next = after[0];
    if (!next) throw new Error('the seed asked nothing after its plan was approved');
    nextQuestionId = next.id;
    await host.answer(finished.id, next.id, true);
    seeds = { waiting: waiting.id, finished: finished.id };
  } finally {
    await host.stop();
  }

  const { rows } = await db.query<{
    id: string;
    state: string;
    questions: number;
    question: string | null;
    work_in_flight: boolean;
    next_timer_at: Date | null;
    bytes: number;
  }>(
    `SELECT id, state, jsonb_array_length(pending_questions) AS questions,
            pending_questions -> 0 ->> 'id' AS question, work_in_flight, next_timer_at,
            pg_column_size(snapshot) AS bytes
     FROM supervisor_states WHERE id = ANY($1::uuid[])`,
    [[seeds.waiting, seeds.finished]],
  );
  const waitingRow = rows.find((r) => r.id === seeds.waiting);
  const finishedRow = rows.find((r) => r.id === seeds.finished);
  if (waitingRow?.state !== 'waiting_for_user' || finishedRow?.state !== 'completed') {
    throw new Error(
      `seed rows are ${waitingRow?.state} / ${finishedRow?.state}, not waiting_for_user / completed`,
    );
  }
  for (const row of rows) {
    console.log(
      `  seed: genuine ${row.state} row: ${row.questions} pending (${row.question ?? 'none'}), work_in_flight ${row.work_in_flight}, next_timer_at ${row.next_timer_at?.toISOString() ?? 'null'}, snapshot ${fmt(row.bytes)} B stored`,
    );
  }

  await cloneRow(db, seeds.waiting, waitingCount - 1, 'waiting');
  await cloneRow(db, seeds.finished, finishedCount - 1, 'finished');
  const vacuum = performance.now();
  await db.exec('VACUUM ANALYZE supervisor_states');
  console.log(`  seed: VACUUM ANALYZE in ${fmt((performance.now() - vacuum) / 1000, 1)} s`);
  const size = await db.query<{ bytes: string }>(
    `SELECT pg_total_relation_size('supervisor_states') AS bytes`,
  );
  return {
    seconds: (performance.now() - started) / 1000,
    tableBytes: Number(size.rows[0]?.bytes ?? 0),
    questionsWaiting: waitingRow.questions,
    questionsAfterAnswer,
    firstQuestionId: waitingRow.question ?? '',
    nextQuestionId,
  };
}
