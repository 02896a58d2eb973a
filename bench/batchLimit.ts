// The batch limit: what this server commits when one client sends 100-row upserts back to
// back, each one statement and one transaction. Group commit can at best approach this many
// rows per second: it is the cost of the rows and of one WAL flush per batch, with no
// application in between. See bench/README.md.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type PgbenchChoice, parsePgbenchOutput, runProcess } from './pgbench.ts';

/** Rows per statement. */
export const BATCH_ROWS = 100;

export interface BatchLimitOptions {
  /** The bench database, holding `bench_upsert` with ids 1..tableRows (made by (a)). */
  url: string;
  /** The 1 KB JSON document every row gets, the same as (a)'s. */
  doc: string;
  tableRows: number;
  seconds: number;
  client: PgbenchChoice;
}

export interface BatchLimitResult {
  tool: string;
  /** 100-row statements (= transactions) per second. */
  tps: number;
  rowsPerSecond: number;
  transactions: number | null;
}

/** The statement, with the first id as `first` and the document as `doc` placeholders. */
function upsertStatement(first: string, doc: string): string {
  return (
    `INSERT INTO bench_upsert (id, doc) SELECT g, ${doc} ` +
    `FROM generate_series(${first}, ${first} + ${BATCH_ROWS - 1}) AS g ` +
    'ON CONFLICT (id) DO UPDATE SET doc = excluded.doc'
  );
}

async function withPgbench(pgbench: string, options: BatchLimitOptions): Promise<BatchLimitResult> {
  const dir = await mkdtemp(join(tmpdir(), 'steward-bench-'));
  try {
    const script = join(dir, 'upsert100.sql');
    await writeFile(
      script,
      `\\set first random(1, ${options.tableRows - BATCH_ROWS + 1})\n` +
        `${upsertStatement(':first', `'${options.doc}'::jsonb`)};\n`,
    );
    const seconds = Math.max(1, Math.round(options.seconds));
    const args = ['-n', '-c', '1', '-j', '1', '-T', String(seconds)];
    console.log(`  (batch limit) ${pgbench} ${args.join(' ')} -f upsert100.sql (${seconds} s)`);
    const report = parsePgbenchOutput(
      await runProcess(pgbench, [...args, '-f', script, options.url]),
    );
    return {
      tool: 'pgbench (1 client, simple protocol)',
      tps: report.tps,
      rowsPerSecond: report.tps * BATCH_ROWS,
      transactions: report.transactions,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function withNodeClient(options: BatchLimitOptions, why: string): Promise<BatchLimitResult> {
  const client = new pg.Client({ connectionString: options.url });
  await client.connect();
  console.log(`  (batch limit) one pg client from Node for ${options.seconds} s`);
  const statement = upsertStatement('$1::integer', '$2::jsonb');
  let transactions = 0;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  try {
    while (performance.now() < deadline) {
      const first = 1 + Math.floor(Math.random() * (options.tableRows - BATCH_ROWS + 1));
      await client.query(statement, [first, options.doc]);
      transactions++;
    }
  } finally {
    await client.end();
  }
  const tps = transactions / ((performance.now() - started) / 1000);
  return {
    tool: `one Node pg client (${why})`,
    tps,
    rowsPerSecond: tps * BATCH_ROWS,
    transactions,
  };
}

/**
 * Runs one client upserting 100 consecutive rows from a random first id, one statement per
 * transaction, for `seconds`: pgbench when chosen, otherwise one `pg` client from Node.
 */
export async function runBatchLimit(options: BatchLimitOptions): Promise<BatchLimitResult> {
  const { pgbench, why } = options.client;
  return pgbench ? withPgbench(pgbench, options) : withNodeClient(options, why);
}
