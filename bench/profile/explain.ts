// explain mode: the writer's own batches, captured at the store, measured at batch sizes
// 1/32/256 and then committed for real.
import pg from 'pg';
import { migrate } from '../../src/persistence/migrator.ts';
import { openPgDatabase } from '../../src/persistence/pgDatabase.ts';
import { createSupervisorStore } from '../../src/persistence/supervisorStore.ts';
import { fmt, sleep } from '../support.ts';
import { startLoop } from './answerLoop.ts';
import { config, log } from './config.ts';
import { schemaNames } from './explainRuns.ts';
import { HoldingStore, mergeBatches } from './holdingStore.ts';
import { seed, startHost, withOwnDatabase } from './seed.ts';
import { LARGEST, profileSize, SIZES, type SizeReport } from './sizeReport.ts';
import { printSizeTable } from './sizeTables.ts';
import { median } from './stats.ts';

export async function explainMode(url: string): Promise<void> {
  await withOwnDatabase(url, async (dbUrl) => {
    const db = await openPgDatabase({ connectionString: dbUrl, max: config.poolMax, log });
    const client = new pg.Client({ connectionString: dbUrl });
    await client.connect();
    try {
      await migrate(db);
      const holding = new HoldingStore(createSupervisorStore(db));
      // Many slots, so that every held answer gets sent (held batches never finish).
      const bench = startHost(holding.store, LARGEST);
      const ids = await seed(bench, config.supervisors);
      console.log(`seeded ${fmt(ids.length)} supervisors`);
      const warm = startLoop(bench, ids, config.inFlight);
      await sleep(config.warmupSeconds * 1000);
      await warm.stop();
      console.log(`warm-up: ${fmt(warm.answered())} answers in ${config.warmupSeconds} s`);

      const full = holding.hold(LARGEST);
      const chosen = ids.slice(0, LARGEST);
      const answers = chosen.map((id) =>
        bench.host.answer(id, bench.pending.get(id) as string, true),
      );
      const heldBatches = await full;
      const merged = mergeBatches(heldBatches);
      console.log(
        `captured ${heldBatches.length} writer batches: ${merged.states.length} rows, ${merged.events.length} journal rows, ` +
          `${merged.checkpoints.length} checkpoints, ${merged.tasks?.length ?? 0} task rows`,
      );
      const kinds = new Map<string, number>();
      for (const e of merged.events) kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1);
      console.log(`journal kinds: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}`);

      // Per iteration, so that the fastest one (least disturbed by the load) can be read.
      await client.query(`CREATE FUNCTION pg_temp.prof_parse(t text, n integer, OUT best double precision, OUT mean double precision)
        LANGUAGE plpgsql AS $$
        DECLARE started timestamptz; began timestamptz; j jsonb; us double precision;
        BEGIN
          best := 'infinity';
          began := clock_timestamp();
          FOR i IN 1..n LOOP
            started := clock_timestamp();
            j := t::jsonb;
            us := extract(epoch FROM clock_timestamp() - started) * 1e6;
            IF us < best THEN best := us; END IF;
          END LOOP;
          mean := extract(epoch FROM clock_timestamp() - began) * 1e6 / n;
        END $$`);
      // Planner statistics as autovacuum would have them in steady state.
      await client.query('VACUUM ANALYZE supervisor_states, supervisor_events');

      await describeIndexes(client);
      const names = await schemaNames(client);
      const order = merged.states.map((s) => s.id);
      const reports: SizeReport[] = [];
      for (const size of SIZES) {
        reports.push(await profileSize(client, merged, order, size, names));
      }
      printSizeTable(reports);

      const releaseTimings = await holding.release(client, 32);
      await Promise.all(answers);
      const commitMs = releaseTimings.map((t) => t.commitMs);
      const statementMs = releaseTimings.map((t) => t.statementMs);
      console.log(
        `\nreal commits of the held answers, 32 rows each (${releaseTimings.length}): statement median ${fmt(median(statementMs), 2)} ms ` +
          `(min ${fmt(Math.min(...statementMs), 2)}), COMMIT median ${fmt(median(commitMs), 2)} ms (min ${fmt(Math.min(...commitMs), 2)})`,
      );
      await bench.host.stop();
    } finally {
      await client.end();
      await db.close();
    }
  });
}

async function describeIndexes(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ name: string; def: string; bytes: string }>(
    `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def, pg_relation_size(i.indexrelid) AS bytes
     FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     WHERE i.indrelid = 'supervisor_states'::regclass ORDER BY c.relname`,
  );
  console.log(`\nindexes of supervisor_states (${rows.length}):`);
  for (const r of rows) {
    console.log(
      `  ${r.name}: ${r.def.replace(/^CREATE (UNIQUE )?INDEX \S+ ON public\.supervisor_states USING /, '')} (${fmt(Number(r.bytes))} B)`,
    );
  }
  const { rows: table } = await client.query<{
    fillfactor: string | null;
    pages: string;
    width: string;
  }>(
    `SELECT (SELECT option_value FROM pg_options_to_table(c.reloptions) WHERE option_name = 'fillfactor') AS fillfactor,
            pg_relation_size(c.oid) / 8192 AS pages,
            (SELECT avg(pg_column_size(s.*))::int FROM supervisor_states s) AS width
     FROM pg_class c WHERE c.oid = 'supervisor_states'::regclass`,
  );
  const { rows: columns } = await client.query<Record<string, string>>(
    `SELECT avg(pg_column_size(snapshot))::int AS snapshot, avg(pg_column_size(pending_questions))::int AS pending_questions,
            avg(pg_column_size(timers))::int AS timers, avg(pg_column_size(input))::int AS input,
            avg(pg_column_size(tags))::int AS tags, avg(pg_column_size(state_value))::int AS state_value
     FROM supervisor_states`,
  );
  console.log(
    `  mean stored column bytes: ${Object.entries(columns[0] ?? {})
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  console.log(
    `  table: fillfactor ${table[0]?.fillfactor ?? 'default'}, ${table[0]?.pages} pages, mean row ${table[0]?.width} bytes`,
  );
}
