// explain mode's measurements of one statement, each rolled back: EXPLAIN ANALYZE with the
// HOT and indexed-column check, the plain round trip, relation locks, jsonb parsing.
import type pg from 'pg';
import type { Statement } from './batchStatement.ts';
import { type Breakdown, breakdown, type Explained } from './planBreakdown.ts';

const INDEXED_COLUMNS =
  'id, owner, machine_id, state, state_entered_at, state_value, tags, progress, next_timer_at, work_in_flight, has_pending_questions';

type IndexedRow = Record<string, unknown> & { id: string; ctid: string };

async function indexedRows(
  client: pg.Client,
  ids: readonly string[],
): Promise<Map<string, IndexedRow>> {
  const { rows } = await client.query<IndexedRow>(
    `SELECT ctid::text AS ctid, ${INDEXED_COLUMNS} FROM supervisor_states WHERE id = ANY ($1::uuid[])`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

export interface Run {
  b: Breakdown;
  hotRatio: number;
  updates: number;
  /** Rows whose new version left its page (certainly not HOT). */
  movedPage: number;
  changed: Map<string, number>;
}

/** Relation locks a transaction holds after the statement alone, fast-path or not. */
export async function locksOf(client: pg.Client, statement: Statement): Promise<Locks> {
  await client.query('BEGIN');
  try {
    await client.query(statement.text, statement.params);
    const { rows } = await client.query<{ fast: string; slow: string; relations: string }>(
      `SELECT count(*) FILTER (WHERE l.fastpath) AS fast, count(*) FILTER (WHERE NOT l.fastpath) AS slow,
              count(DISTINCT l.relation) AS relations
       FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
       WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND c.relnamespace = 'public'::regnamespace`,
    );
    const { rows: detail } = await client.query<{ lock: string }>(
      `SELECT l.relation::regclass::text || ' ' || l.mode || CASE WHEN l.fastpath THEN ' (fast)' ELSE '' END AS lock
       FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
       WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND c.relnamespace = 'public'::regnamespace
       ORDER BY 1`,
    );
    return {
      fast: Number(rows[0]?.fast ?? 0),
      slow: Number(rows[0]?.slow ?? 0),
      relations: Number(rows[0]?.relations ?? 0),
      detail: detail.map((d) => d.lock),
    };
  } finally {
    await client.query('ROLLBACK');
  }
}

/**
 * How a run alters the schema first, inside its transaction (rolled back with it): to
 * see what the foreign key or the secondary indexes cost.
 */
type Variant = 'as-is' | 'no-fk' | 'pkey-only';

export interface SchemaNames {
  journalForeignKeys: string[];
  secondaryIndexes: string[];
}

export async function schemaNames(client: pg.Client): Promise<SchemaNames> {
  const fks = await client.query<{ name: string }>(
    `SELECT conname AS name FROM pg_constraint
     WHERE conrelid = 'supervisor_events'::regclass AND contype = 'f'`,
  );
  const indexes = await client.query<{ name: string }>(
    `SELECT indexrelid::regclass::text AS name FROM pg_index
     WHERE indrelid = 'supervisor_states'::regclass AND NOT indisprimary`,
  );
  return {
    journalForeignKeys: fks.rows.map((r) => r.name),
    secondaryIndexes: indexes.rows.map((r) => r.name),
  };
}

async function alterFor(client: pg.Client, variant: Variant, names: SchemaNames): Promise<void> {
  if (variant === 'no-fk') {
    for (const fk of names.journalForeignKeys) {
      await client.query(`ALTER TABLE supervisor_events DROP CONSTRAINT "${fk}"`);
    }
  } else if (variant === 'pkey-only') {
    for (const index of names.secondaryIndexes) await client.query(`DROP INDEX ${index}`);
  }
}

/**
 * The rolled-back runs update the same rows again and again; their dead versions would
 * fill the pages and turn later updates non-HOT, which the live loop does not see (its
 * pages are pruned as it goes). Every run starts from a vacuumed table.
 */
async function vacuum(client: pg.Client): Promise<void> {
  await client.query('VACUUM supervisor_states, supervisor_events');
}

export async function explainOnce(
  client: pg.Client,
  statement: Statement,
  ids: readonly string[],
  variant: Variant,
  names: SchemaNames,
): Promise<Run> {
  await vacuum(client);
  await client.query('BEGIN');
  try {
    await alterFor(client, variant, names);
    const before = await indexedRows(client, ids);
    const { rows } = await client.query<{ 'QUERY PLAN': Explained[] }>(
      `EXPLAIN (ANALYZE, BUFFERS, VERBOSE, WAL, FORMAT JSON) ${statement.text}`,
      statement.params,
    );
    const explained = rows[0]?.['QUERY PLAN'][0];
    if (!explained) throw new Error('EXPLAIN returned no plan');
    const after = await indexedRows(client, ids);
    const changed = new Map<string, number>();
    let movedPage = 0;
    for (const [id, old] of before) {
      const now = after.get(id);
      if (!now) continue;
      const page = (ctid: string) => ctid.slice(1).split(',')[0];
      if (page(old.ctid) !== page(now.ctid)) movedPage++;
      for (const column of INDEXED_COLUMNS.split(', ')) {
        if (JSON.stringify(old[column]) !== JSON.stringify(now[column])) {
          changed.set(column, (changed.get(column) ?? 0) + 1);
        }
      }
    }
    // No indexed column changes (counted in `changed`), so an update is HOT exactly when
    // its new version found room on its page. pg_stat_xact_user_tables cannot tell: in
    // PostgreSQL 15 it also counts earlier transactions whose statistics are not flushed.
    const updates = before.size;
    return {
      b: breakdown(explained),
      hotRatio: updates ? (updates - movedPage) / updates : Number.NaN,
      updates,
      movedPage,
      changed,
    };
  } finally {
    await client.query('ROLLBACK');
  }
}

/** Round trip of the plain statement (parse at bind, plan, execute, reply), rolled back. */
export async function plainOnce(client: pg.Client, statement: Statement): Promise<number> {
  await vacuum(client);
  await client.query('BEGIN');
  try {
    const started = performance.now();
    await client.query(statement.text, statement.params);
    return performance.now() - started;
  } finally {
    await client.query('ROLLBACK');
  }
}

/** Server-side µs of one `text::jsonb` (jsonb_in), the parse a parameter gets at bind. */
export async function jsonbParseMicros(client: pg.Client, text: string): Promise<Parse> {
  const n = Math.min(2_000, Math.max(20, Math.ceil(8_000_000 / Math.max(1, text.length))));
  const { rows } = await client.query<Parse>('SELECT best, mean FROM pg_temp.prof_parse($1, $2)', [
    text,
    n,
  ]);
  return { best: Number(rows[0]?.best), mean: Number(rows[0]?.mean) };
}

export interface Parse {
  best: number;
  mean: number;
}

/** Execution ms of jsonb_to_recordset over an already-parsed parameter, with given columns. */
export async function recordsetMs(
  client: pg.Client,
  param: string,
  columns: string,
): Promise<number> {
  const { rows } = await client.query<{ 'QUERY PLAN': Explained[] }>(
    `EXPLAIN (ANALYZE, FORMAT JSON) SELECT count(*) FROM jsonb_to_recordset($1::jsonb) AS r (${columns})`,
    [param],
  );
  return rows[0]?.['QUERY PLAN'][0]?.['Execution Time'] ?? Number.NaN;
}

export function stateColumns(text: string): string {
  for (const match of text.matchAll(/jsonb_to_recordset\(\$1::jsonb\) AS r \(([^)]*)\)/g)) {
    if (match[1]?.includes('snapshot jsonb')) return match[1].replace(/\s+/g, ' ').trim();
  }
  throw new Error('the states column list was not found in the statement');
}

export interface Locks {
  fast: number;
  slow: number;
  relations: number;
  detail: string[];
}
