// Where a durable answer's time goes (issue 14, deliverable 1), on both sides of the group
// commit. Three modes, findings in bench/profile.md:
//
//   explain    PostgreSQL: EXPLAIN (ANALYZE, BUFFERS, VERBOSE, WAL) of the writer's commit
//              statement at batch sizes 1/32/256, rolled back, as sent and with the
//              snapshot replaced by {}, the journal FK dropped, or only the primary key
//              on supervisor_states; jsonb parsing of the parameters, relation locks,
//              HOT updates and which indexed columns change.
//   loop       Node: the closed loop of bench (b) for a while; CPU per answer (Node and
//              the PostgreSQL backends), event-loop delay, time in JSON.stringify/parse,
//              HOT statistics. Run it under --cpu-prof.
//   summarize  Self time per function and per module of a .cpuprofile, limited to the
//              loop's measured window.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/profileCommit.ts explain
//   DATABASE_URL=... node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/profileCommit.ts loop
//   npx tsx bench/profileCommit.ts summarize /tmp/prof
//
// explain and loop each create their own database steward_prof_<pid>, migrate it with
// migrate() and drop it at the end.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import { createLogger } from '../src/logger.ts';
import { createMachineRegistry } from '../src/machines/registry.ts';
import type { Database, Queryable } from '../src/persistence/database.ts';
import { migrate } from '../src/persistence/migrator.ts';
import { openPgDatabase } from '../src/persistence/pgDatabase.ts';
import {
  type CommitBatch,
  type CommitResult,
  createSupervisorStore,
  type SupervisorStore,
  saveSupervisorStateFull,
} from '../src/persistence/supervisorStore.ts';
import { createSupervisorHost, type SupervisorHost } from '../src/runtime/supervisorHost.ts';
import { benchMachineDefinition } from './benchMachine.ts';
import {
  createDatabase,
  databaseUrlFor,
  dropDatabase,
  envNumber,
  fmt,
  IdleQueue,
  runPool,
  sleep,
} from './support.ts';

/** When the process started, on the clock of the CPU profile (µs, CLOCK_MONOTONIC). */
const PROCESS_START_US = Number(process.hrtime.bigint() / 1000n);

const config = {
  supervisors: Math.round(envNumber('PROFILE_SUPERVISORS', 1_000)),
  inFlight: Math.round(envNumber('PROFILE_IN_FLIGHT', 64)),
  seconds: envNumber('PROFILE_SECONDS', 10),
  warmupSeconds: envNumber('PROFILE_WARMUP_SECONDS', 2),
  repeats: Math.round(envNumber('PROFILE_REPEATS', 20)),
  poolMax: Math.round(envNumber('PROFILE_POOL_MAX', 8)),
};
const SIZES = [1, 32, 256] as const;
const LARGEST = 256;
const LOOP_SAMPLE_MS = 5;

const log = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', name: 'profile' });

// ---------------------------------------------------------------------------------------
// shared: a database of our own, a host of bench supervisors, the closed loop

async function withOwnDatabase<T>(url: string, fn: (dbUrl: string) => Promise<T>): Promise<T> {
  const name = `steward_prof_${process.pid}`;
  const dbUrl = await createDatabase(url, name);
  console.log(`database ${name} created`);
  let dropped = false;
  const drop = async (): Promise<void> => {
    if (dropped) return;
    dropped = true;
    await dropDatabase(url, name);
    console.log(`database ${name} dropped`);
  };
  process.once('SIGINT', () => {
    drop().finally(() => process.exit(130));
  });
  try {
    return await fn(dbUrl);
  } finally {
    await drop();
  }
}

interface BenchHost {
  host: SupervisorHost;
  /** The pending question of each supervisor, as the committed-changes stream told it. */
  pending: Map<string, string>;
}

function startHost(store: SupervisorStore, maxConcurrentBatches?: number): BenchHost {
  const registry = createMachineRegistry();
  registry.register(benchMachineDefinition);
  const host = createSupervisorHost({
    store,
    registry,
    heartbeatIntervalMs: 0,
    // Held commits (explain mode) wait for as long as the EXPLAIN runs take.
    commitTimeoutMs: 600_000,
    log,
    ...(maxConcurrentBatches === undefined ? {} : { writer: { maxConcurrentBatches } }),
  });
  const pending = new Map<string, string>();
  host.subscribe((change) => {
    if (change.type === 'question.asked') pending.set(change.supervisorId, change.question.id);
  });
  return { host, pending };
}

async function seed({ host }: BenchHost, count: number): Promise<string[]> {
  const ids: string[] = [];
  await runPool(count, 64, async () => {
    const { id } = await host.spawn('bench', undefined, { owner: 'bench' });
    ids.push(id);
  });
  return ids;
}

interface Loop {
  answered(): number;
  errors(): number;
  stop(): Promise<void>;
}

/** Bench (b)'s closed loop: `inFlight` answers, each on a supervisor nobody else answers. */
function startLoop({ host, pending }: BenchHost, ids: readonly string[], inFlight: number): Loop {
  const idle = new IdleQueue(ids.length);
  for (const id of ids) idle.put(id);
  let stopping = false;
  let answered = 0;
  let errors = 0;
  const worker = async (): Promise<void> => {
    while (!stopping) {
      const id = idle.take();
      try {
        const questionId = pending.get(id);
        if (!questionId) throw new Error(`no pending question known for ${id}`);
        await host.answer(id, questionId, true);
        answered++;
      } catch (error) {
        errors++;
        if (errors <= 3) console.error(`answer failed: ${(error as Error).message}`);
        await sleep(10);
      } finally {
        idle.put(id);
      }
    }
  };
  const workers = Array.from({ length: inFlight }, worker);
  return {
    answered: () => answered,
    errors: () => errors,
    async stop() {
      stopping = true;
      await Promise.all(workers);
    },
  };
}

function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function pct(part: number, whole: number): string {
  return whole > 0 ? `${fmt((part / whole) * 100, 1)} %` : '-';
}

// ---------------------------------------------------------------------------------------
// explain: capturing the writer's batches

/**
 * A store that passes commits through, or, while holding, keeps them unsent: the batches
 * exactly as the writer built them, for the EXPLAIN runs, released (committed) afterwards.
 */
class HoldingStore {
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
function mergeBatches(batches: readonly CommitBatch[]): CommitBatch {
  return {
    states: batches.flatMap((b) => b.states),
    events: batches.flatMap((b) => b.events),
    checkpoints: batches.flatMap((b) => b.checkpoints),
    tasks: batches.flatMap((b) => b.tasks ?? []),
  };
}

/** The part of a batch that concerns some of its supervisors, in the batch's order. */
function subBatch(batch: CommitBatch, ids: ReadonlySet<string>): CommitBatch {
  return {
    states: batch.states.filter((s) => ids.has(s.id)),
    events: batch.events.filter((e) => ids.has(e.supervisorId)),
    checkpoints: batch.checkpoints.filter((c) => ids.has(c.supervisorId)),
    tasks: (batch.tasks ?? []).filter((t) => ids.has(t.supervisorId)),
  };
}

interface Statement {
  text: string;
  params: string[];
}

/** The statement and parameters `saveSupervisorStateFull` sends for a batch, not sent. */
async function statementOf(batch: CommitBatch): Promise<Statement> {
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

// ---------------------------------------------------------------------------------------
// explain: reading a plan

interface PlanNode {
  'Node Type': string;
  'Parent Relationship'?: string;
  'Subplan Name'?: string;
  'CTE Name'?: string;
  'Relation Name'?: string;
  'Function Name'?: string;
  Operation?: string;
  'Actual Total Time'?: number;
  'Actual Loops'?: number;
  'Actual Rows'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  'Shared Dirtied Blocks'?: number;
  'WAL Records'?: number;
  'WAL FPI'?: number;
  'WAL Bytes'?: number;
  Plans?: PlanNode[];
}

interface Explained {
  Plan: PlanNode;
  'Planning Time': number;
  'Execution Time': number;
  Triggers?: Array<{ 'Trigger Name': string; Relation: string; Time: number; Calls: number }>;
}

/** ms by component of one EXPLAIN ANALYZE, with its WAL and buffers. */
interface Breakdown {
  components: Map<string, number>;
  planningMs: number;
  executionMs: number;
  triggerMs: number;
  walRecords: number;
  walBytes: number;
  walFpi: number;
  sharedHit: number;
  sharedDirtied: number;
  /** Exclusive ms per node, labelled, for the detailed listing. */
  nodes: Array<{ label: string; ms: number; rows: number; wal: number; dirtied: number }>;
}

function inclusiveMs(node: PlanNode): number {
  return (node['Actual Total Time'] ?? 0) * (node['Actual Loops'] ?? 1);
}

/** A CTE's plan hangs under the node using it as an InitPlan named "CTE <name>". */
function cteNameOf(node: PlanNode): string | undefined {
  const name = node['Subplan Name'];
  return node['Parent Relationship'] === 'InitPlan' && name?.startsWith('CTE ')
    ? name.slice(4)
    : undefined;
}

function componentOf(cte: string, node: PlanNode): string {
  const type = node['Node Type'];
  if (type === 'ModifyTable') return `${cte}: ${node.Operation} on ${node['Relation Name']}`;
  if (type === 'Function Scan') return `${cte}: ${node['Function Name']}`;
  if (type === 'CTE Scan') return `${cte}: CTE scans`;
  return `${cte}: joins, sorts, scans`;
}

/**
 * Exclusive time of every plan node, by component. A CTE's plan runs inside whichever CTE
 * Scan reads it first (or at the end of the statement when nothing reads it), so that
 * first reader's time includes the CTE's own: it is taken off the scans of that CTE, and
 * the CTE's nodes keep it.
 */
function breakdown(explained: Explained): Breakdown {
  const components = new Map<string, number>();
  const cteInclusive = new Map<string, number>();
  const scans: Array<{ cte: string; reads: string; ms: number }> = [];
  const nodes: Breakdown['nodes'] = [];
  let walRecords = 0;
  let walBytes = 0;
  let walFpi = 0;
  const add = (key: string, ms: number): void => {
    components.set(key, (components.get(key) ?? 0) + ms);
  };
  const walk = (node: PlanNode, cte: string): void => {
    let children = 0;
    for (const child of node.Plans ?? []) {
      const name = cteNameOf(child);
      if (name) {
        cteInclusive.set(name, inclusiveMs(child));
        walk(child, name);
      } else {
        children += inclusiveMs(child);
        walk(child, cte);
      }
    }
    const own = Math.max(0, inclusiveMs(node) - children);
    // WAL and buffers are inclusive too: count them at the nodes that write (ModifyTable).
    if (node['Node Type'] === 'ModifyTable') {
      walRecords += node['WAL Records'] ?? 0;
      walBytes += node['WAL Bytes'] ?? 0;
      walFpi += node['WAL FPI'] ?? 0;
    }
    if (node['Node Type'] === 'CTE Scan') {
      scans.push({ cte, reads: node['CTE Name'] ?? '', ms: own });
    } else {
      add(componentOf(cte, node), own);
      nodes.push({
        label: `${componentOf(cte, node)} [${node['Node Type']}]`,
        ms: own,
        rows: node['Actual Rows'] ?? 0,
        wal: node['WAL Records'] ?? 0,
        dirtied: node['Shared Dirtied Blocks'] ?? 0,
      });
    }
  };
  walk(explained.Plan, 'main');
  const byCte = new Map<string, number>();
  for (const scan of scans) byCte.set(scan.reads, (byCte.get(scan.reads) ?? 0) + scan.ms);
  for (const scan of scans) {
    // The CTE's own time is spread over its scans in proportion; what is left is reading.
    const total = byCte.get(scan.reads) ?? 0;
    const own = cteInclusive.get(scan.reads) ?? 0;
    const reading = total > 0 ? Math.max(0, total - own) * (scan.ms / total) : 0;
    add(`${scan.cte}: CTE scans`, reading);
  }
  const triggers = explained.Triggers ?? [];
  let triggerMs = 0;
  for (const t of triggers) {
    const fk = t['Trigger Name'].startsWith('RI_ConstraintTrigger');
    add(`${fk ? 'FK check' : 'trigger'} on ${t.Relation} (${t.Calls} calls)`, t.Time);
    triggerMs += t.Time;
  }
  const summed = [...components.values()].reduce((a, b) => a + b, 0);
  add(
    'executor: the rest (start-up, end of statement, EXPLAIN timing)',
    Math.max(0, explained['Execution Time'] - summed),
  );
  const top = explained.Plan;
  return {
    components,
    planningMs: explained['Planning Time'],
    executionMs: explained['Execution Time'],
    triggerMs,
    walRecords,
    walBytes,
    walFpi,
    sharedHit: top['Shared Hit Blocks'] ?? 0,
    sharedDirtied: top['Shared Dirtied Blocks'] ?? 0,
    nodes,
  };
}

/** Components grouped into the rows of the report. */
const GROUPS: ReadonlyArray<{ label: string; match: (key: string) => boolean }> = [
  {
    label: 'states param → rows (jsonb_to_recordset, incoming + saved)',
    match: (k) => /^(incoming|saved): jsonb_to_recordset/.test(k),
  },
  {
    label: 'upsert supervisor_states (conflict check, heap, index entries)',
    match: (k) => k.startsWith('saved: Insert on supervisor_states'),
  },
  {
    label: 'stored versions (join incoming → supervisor_states)',
    match: (k) => k.startsWith('stored:'),
  },
  {
    label: 'journal param → rows, filter joins, sort',
    match: (k) => k.startsWith('journal:') && !k.includes('Insert on'),
  },
  {
    label: 'journal insert supervisor_events (heap, 3 indexes)',
    match: (k) => k.startsWith('journal: Insert on'),
  },
  { label: 'FK checks (RI triggers)', match: (k) => k.startsWith('FK check') },
  { label: 'checkpoints (kept)', match: (k) => k.startsWith('kept:') },
  { label: 'task rows (task_rows)', match: (k) => k.startsWith('task_rows:') },
  {
    label: 'result select (main query)',
    match: (k) => k.startsWith('main:') || k.startsWith('saved: CTE'),
  },
  {
    label: 'executor: the rest',
    match: (k) => k.startsWith('executor:') || k.startsWith('trigger '),
  },
];

function grouped(b: Breakdown): number[] {
  const sums = GROUPS.map(() => 0);
  for (const [key, ms] of b.components) {
    const index = GROUPS.findIndex((g) => g.match(key));
    const at = index >= 0 ? index : GROUPS.length - 1;
    sums[at] = (sums[at] as number) + ms;
  }
  return sums;
}

// ---------------------------------------------------------------------------------------
// explain: the runs

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

interface Run {
  b: Breakdown;
  hotRatio: number;
  updates: number;
  /** Rows whose new version left its page (certainly not HOT). */
  movedPage: number;
  changed: Map<string, number>;
}

/** Relation locks a transaction holds after the statement alone, fast-path or not. */
async function locksOf(client: pg.Client, statement: Statement): Promise<Locks> {
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

interface SchemaNames {
  journalForeignKeys: string[];
  secondaryIndexes: string[];
}

async function schemaNames(client: pg.Client): Promise<SchemaNames> {
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

async function explainOnce(
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
async function plainOnce(client: pg.Client, statement: Statement): Promise<number> {
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

/** The states parameter with every snapshot replaced by `{}`: what the snapshot costs. */
function withoutSnapshots(statement: Statement): Statement {
  const rows = JSON.parse(statement.params[0] as string) as Array<Record<string, unknown>>;
  const small = JSON.stringify(rows.map((r) => ({ ...r, snapshot: {} })));
  return { text: statement.text, params: [small, ...statement.params.slice(1)] };
}

/** Server-side µs of one `text::jsonb` (jsonb_in), the parse a parameter gets at bind. */
async function jsonbParseMicros(client: pg.Client, text: string): Promise<Parse> {
  const n = Math.min(2_000, Math.max(20, Math.ceil(8_000_000 / Math.max(1, text.length))));
  const { rows } = await client.query<Parse>('SELECT best, mean FROM pg_temp.prof_parse($1, $2)', [
    text,
    n,
  ]);
  return { best: Number(rows[0]?.best), mean: Number(rows[0]?.mean) };
}

interface Parse {
  best: number;
  mean: number;
}

/** Execution ms of jsonb_to_recordset over an already-parsed parameter, with given columns. */
async function recordsetMs(client: pg.Client, param: string, columns: string): Promise<number> {
  const { rows } = await client.query<{ 'QUERY PLAN': Explained[] }>(
    `EXPLAIN (ANALYZE, FORMAT JSON) SELECT count(*) FROM jsonb_to_recordset($1::jsonb) AS r (${columns})`,
    [param],
  );
  return rows[0]?.['QUERY PLAN'][0]?.['Execution Time'] ?? Number.NaN;
}

function stateColumns(text: string): string {
  for (const match of text.matchAll(/jsonb_to_recordset\(\$1::jsonb\) AS r \(([^)]*)\)/g)) {
    if (match[1]?.includes('snapshot jsonb')) return match[1].replace(/\s+/g, ' ').trim();
  }
  throw new Error('the states column list was not found in the statement');
}

async function explainMode(url: string): Promise<void> {
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

interface SizeReport {
  size: number;
  runs: Run[];
  smallRuns: Run[];
  noFkRuns: Run[];
  pkeyOnlyRuns: Run[];
  plainMs: number[];
  params: Statement['params'];
  parse: Parse[];
  smallParse: Parse;
  recordsetFullMs: number;
  recordsetIdMs: number;
  recordsetSmallMs: number;
  nodeBuildUs: number;
  locks: Locks;
}

interface Locks {
  fast: number;
  slow: number;
  relations: number;
  detail: string[];
}

async function profileSize(
  client: pg.Client,
  merged: CommitBatch,
  order: readonly string[],
  size: number,
  names: SchemaNames,
): Promise<SizeReport> {
  const runs: Run[] = [];
  const smallRuns: Run[] = [];
  const noFkRuns: Run[] = [];
  const pkeyOnlyRuns: Run[] = [];
  const plainMs: number[] = [];
  let first: Statement | undefined;
  for (let r = 0; r < config.repeats; r++) {
    // Other supervisors each time, as far as the captured ones go.
    const start = (r * size) % order.length;
    const ids = order.slice(start, start + size);
    const statement = await statementOf(subBatch(merged, new Set(ids)));
    first ??= statement;
    runs.push(await explainOnce(client, statement, ids, 'as-is', names));
    smallRuns.push(await explainOnce(client, withoutSnapshots(statement), ids, 'as-is', names));
    noFkRuns.push(await explainOnce(client, statement, ids, 'no-fk', names));
    pkeyOnlyRuns.push(await explainOnce(client, statement, ids, 'pkey-only', names));
    plainMs.push(await plainOnce(client, statement));
  }
  const statement = first as Statement;
  const locks = await locksOf(client, statement);
  const parse: Parse[] = [];
  for (const param of statement.params) parse.push(await jsonbParseMicros(client, param));
  const small = withoutSnapshots(statement);
  const smallParse = await jsonbParseMicros(client, small.params[0] as string);
  const columns = stateColumns(statement.text);
  const recordset = async (param: string, cols: string) => {
    const samples: number[] = [];
    for (let i = 0; i < 9; i++) samples.push(await recordsetMs(client, param, cols));
    return Math.min(...samples);
  };
  const recordsetFullMs = await recordset(statement.params[0] as string, columns);
  const recordsetIdMs = await recordset(statement.params[0] as string, 'id uuid');
  const recordsetSmallMs = await recordset(small.params[0] as string, columns);
  // Node's side of the parameters: stateRows + eventRows + checkpointRows + taskRows.
  const sub = subBatch(merged, new Set(order.slice(0, size)));
  const loops = Math.max(20, Math.ceil(20_000 / size));
  const t0 = performance.now();
  for (let i = 0; i < loops; i++) await statementOf(sub);
  const nodeBuildUs = ((performance.now() - t0) * 1000) / loops;

  const report: SizeReport = {
    size,
    runs,
    smallRuns,
    noFkRuns,
    pkeyOnlyRuns,
    plainMs,
    params: statement.params,
    parse,
    smallParse,
    recordsetFullMs,
    recordsetIdMs,
    recordsetSmallMs,
    nodeBuildUs,
    locks,
  };
  printSizeDetail(report);
  return report;
}

function medianRun(runs: readonly Run[]): Run {
  const sorted = [...runs].sort((a, b) => a.b.executionMs - b.b.executionMs);
  return sorted[Math.floor(sorted.length / 2)] as Run;
}

const execution = (runs: readonly Run[]) => runs.map((r) => r.b.executionMs);

/** "median (min)" of per-row µs. */
function perRowCell(values: readonly number[], size: number): string {
  return `${fmt((median(values) * 1000) / size, 1)} (${fmt((Math.min(...values) * 1000) / size, 1)})`;
}

function printSizeDetail(r: SizeReport): void {
  const perRow = (ms: number) => fmt((ms * 1000) / r.size, 1);
  const m = medianRun(r.runs);
  console.log(`\n=== batch of ${r.size} (${r.runs.length} runs of each; the median run shown) ===`);
  console.log(
    `params: states ${fmt(r.params[0]?.length ?? 0)} B (${fmt((r.params[0]?.length ?? 0) / r.size)} B/row), ` +
      `events ${fmt(r.params[1]?.length ?? 0)} B, checkpoints ${fmt(r.params[2]?.length ?? 0)} B, tasks ${fmt(r.params[3]?.length ?? 0)} B`,
  );
  const planning = r.runs.map((x) => x.b.planningMs);
  console.log(
    `execution µs/row median (min): ${perRowCell(execution(r.runs), r.size)}; planning ${perRowCell(planning, r.size)}; ` +
      `plain round trip ${perRowCell(r.plainMs, r.size)}`,
  );
  console.log(
    `median run: WAL ${fmt(m.b.walRecords)} records (${fmt(m.b.walRecords / r.size, 1)}/row), ${fmt(m.b.walBytes)} B ` +
      `(${fmt(m.b.walBytes / r.size)} B/row), ${m.b.walFpi} FPI; buffers hit ${fmt(m.b.sharedHit)}, dirtied ${fmt(m.b.sharedDirtied)}; ` +
      `relation locks of the statement: ${r.locks.fast} fast-path + ${r.locks.slow} in the shared lock table, on ${r.locks.relations} relations`,
  );
  if (r.size === 1) console.log(`  locks: ${r.locks.detail.join('; ')}`);
  console.log('  nodes of the median run (exclusive ms, rows, WAL records, dirtied):');
  for (const n of m.b.nodes) {
    if (n.ms < 0.0005 && n.wal === 0) continue;
    console.log(
      `    ${n.label.padEnd(74)} ${fmt(n.ms, 3).padStart(8)}  ${String(n.rows).padStart(5)}  ${String(n.wal).padStart(5)}  ${n.dirtied}`,
    );
  }
  for (const [key, ms] of m.b.components) {
    if (key.startsWith('FK') || key.startsWith('trigger') || key.startsWith('executor'))
      console.log(`    ${key.padEnd(74)} ${fmt(ms, 3).padStart(8)}`);
  }
  const hot = r.runs.map((x) => x.hotRatio).filter((x) => Number.isFinite(x));
  const updates = r.runs.reduce((n, x) => n + x.updates, 0);
  const moved = r.runs.reduce((n, x) => n + x.movedPage, 0);
  console.log(
    `HOT in these runs (vacuumed before each): median ${fmt(median(hot) * 100, 0)} % of updates (${fmt(updates)} updates, ${fmt(moved)} moved to another page)`,
  );
  const changed = new Map<string, number>();
  for (const run of r.runs) {
    for (const [c, n] of run.changed) changed.set(c, (changed.get(c) ?? 0) + n);
  }
  console.log(
    `indexed columns changed by the answers: ${changed.size === 0 ? 'none' : [...changed].map(([c, n]) => `${c} ${n}/${updates}`).join(', ')}`,
  );
  const g = grouped(m.b);
  const gs = grouped(medianRun(r.smallRuns).b);
  console.log(
    `snapshot → {}: execution µs/row ${perRowCell(execution(r.smallRuns), r.size)} vs ${perRowCell(execution(r.runs), r.size)}; ` +
      `median runs: recordset ${fmt(gs[0] ?? 0, 3)} vs ${fmt(g[0] ?? 0, 3)} ms, upsert ${fmt(gs[1] ?? 0, 3)} vs ${fmt(g[1] ?? 0, 3)} ms; ` +
      `WAL ${fmt(medianRun(r.smallRuns).b.walBytes)} vs ${fmt(m.b.walBytes)} B`,
  );
  const p = (x: Parse | undefined) => `${fmt(x?.best ?? 0, 1)}/${fmt(x?.mean ?? 0, 1)}`;
  console.log(
    `jsonb_in at bind (server, µs per parameter, best/mean): states ${p(r.parse[0])} (${perRow((r.parse[0]?.best ?? 0) / 1000)} µs/row best), ` +
      `events ${p(r.parse[1])}, checkpoints ${p(r.parse[2])}, tasks ${p(r.parse[3])}; states with snapshot {} ${p(r.smallParse)}`,
  );
  console.log(
    `jsonb_to_recordset alone (best of 9): all columns ${fmt(r.recordsetFullMs, 3)} ms (${perRow(r.recordsetFullMs)} µs/row), ` +
      `id only ${fmt(r.recordsetIdMs, 3)} ms, all columns with snapshot {} ${fmt(r.recordsetSmallMs, 3)} ms`,
  );
  console.log(
    `Node building the parameters (stateRows etc.): ${fmt(r.nodeBuildUs, 1)} µs (${fmt(r.nodeBuildUs / r.size, 2)} µs/row)`,
  );
}

function printSizeTable(reports: readonly SizeReport[]): void {
  console.log(
    '\n=== PostgreSQL µs per row by component: median (min) of the runs; share of the median execution time ===',
  );
  console.log(`| component | ${reports.map((r) => `batch ${r.size}`).join(' | ')} |`);
  console.log(`| --- | ${reports.map(() => '---:').join(' | ')} |`);
  GROUPS.forEach((group, i) => {
    const cells = reports.map((r) => {
      const values = r.runs.map((x) => grouped(x.b)[i] ?? 0);
      return `${perRowCell(values, r.size)} ${pct(median(values), median(execution(r.runs)))}`;
    });
    console.log(`| ${group.label} | ${cells.join(' | ')} |`);
  });
  const row = (label: string, cell: (r: SizeReport) => string) =>
    console.log(`| ${label} | ${reports.map(cell).join(' | ')} |`);
  row('**execution time**', (r) => `**${perRowCell(execution(r.runs), r.size)}**`);
  row('planning (not in execution time)', (r) =>
    perRowCell(
      r.runs.map((x) => x.b.planningMs),
      r.size,
    ),
  );
  row('jsonb_in of the 4 parameters at bind (not in execution time), best', (r) =>
    fmt(r.parse.reduce((a, b) => a + b.best, 0) / r.size, 1),
  );
  row('plain round trip, rolled back (client clock)', (r) => perRowCell(r.plainMs, r.size));
  row('execution, snapshot replaced by {}', (r) => perRowCell(execution(r.smallRuns), r.size));
  row('execution, journal FK dropped', (r) => perRowCell(execution(r.noFkRuns), r.size));
  row('execution, supervisor_states with its primary key only', (r) =>
    perRowCell(execution(r.pkeyOnlyRuns), r.size),
  );
  row('upsert node, supervisor_states with its primary key only', (r) =>
    perRowCell(
      r.pkeyOnlyRuns.map((x) => grouped(x.b)[1] ?? 0),
      r.size,
    ),
  );
  row('WAL bytes per row, median run', (r) => fmt(medianRun(r.runs).b.walBytes / r.size));
  row('WAL bytes per row, primary key only', (r) =>
    fmt(medianRun(r.pkeyOnlyRuns).b.walBytes / r.size),
  );
  row(
    'relation locks: fast-path + shared lock table (relations)',
    (r) => `${r.locks.fast} + ${r.locks.slow} (${r.locks.relations})`,
  );
  row('HOT share of updates (new version on its page; runs vacuumed first)', (r) =>
    pct(
      r.runs.reduce((n, x) => n + x.hotRatio * x.updates, 0),
      r.runs.reduce((n, x) => n + x.updates, 0),
    ),
  );
  row('Node: building the parameters', (r) => fmt(r.nodeBuildUs / r.size, 2));
}

// ---------------------------------------------------------------------------------------
// loop: Node's side

interface ProcTimes {
  pid: number;
  ticks: number;
}

function procTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

async function backendTimes(db: Database, which: 'mine' | 'background'): Promise<ProcTimes[]> {
  const { rows } = await db.query<{ pid: number }>(
    which === 'mine'
      ? 'SELECT pid FROM pg_stat_activity WHERE datname = current_database()'
      : `SELECT pid FROM pg_stat_activity WHERE backend_type IN ('walwriter', 'checkpointer', 'background writer')`,
  );
  const times: ProcTimes[] = [];
  for (const { pid } of rows) {
    const ticks = procTicks(pid);
    if (ticks !== undefined) times.push({ pid, ticks });
  }
  return times;
}

/** CPU seconds spent between two readings by the processes present in both. */
function cpuSecondsBetween(
  before: readonly ProcTimes[],
  after: readonly ProcTimes[],
): { seconds: number; processes: number } {
  const start = new Map(before.map((t) => [t.pid, t.ticks]));
  let ticks = 0;
  let processes = 0;
  for (const t of after) {
    const s = start.get(t.pid);
    if (s === undefined) continue;
    ticks += t.ticks - s;
    processes++;
  }
  return { seconds: ticks / 100, processes };
}

function profileDir(): string {
  const flag = process.execArgv.find((a) => a.startsWith('--cpu-prof-dir='));
  return flag ? flag.slice('--cpu-prof-dir='.length) : (process.env.PROFILE_DIR ?? '/tmp/prof');
}

/** Outermost JSON.stringify / JSON.parse calls in the window: count and ms. */
const jsonTime = { measuring: false, stringifyMs: 0, stringifyCalls: 0, parseMs: 0, parseCalls: 0 };

/**
 * Replaces JSON.stringify and JSON.parse by named functions that time themselves. V8's
 * profile attributes a builtin's time to the function calling it, so without them JSON
 * would be invisible in the summary (their self time is the builtin's). Nested calls (a
 * toJSON that parses) count once, in the outer call.
 */
function timeJson(): void {
  const stringify = JSON.stringify as (...args: unknown[]) => string;
  const parse = JSON.parse as (...args: unknown[]) => unknown;
  let depth = 0;
  // The builtin is called right here in both, so its time is theirs in the profile.
  function jsonStringifyTimed(...args: unknown[]): string {
    if (!jsonTime.measuring || depth > 0) return stringify(...args);
    depth++;
    const started = performance.now();
    try {
      return stringify(...args);
    } finally {
      jsonTime.stringifyMs += performance.now() - started;
      jsonTime.stringifyCalls++;
      depth--;
    }
  }
  function jsonParseTimed(...args: unknown[]): unknown {
    if (!jsonTime.measuring || depth > 0) return parse(...args);
    depth++;
    const started = performance.now();
    try {
      return parse(...args);
    } finally {
      jsonTime.parseMs += performance.now() - started;
      jsonTime.parseCalls++;
      depth--;
    }
  }
  JSON.stringify = jsonStringifyTimed as typeof JSON.stringify;
  JSON.parse = jsonParseTimed as typeof JSON.parse;
}

/**
 * The commit statement's `stored` CTE (the stored versions of the batch's rows) on the
 * table as the loop left it, bloat and all: which plan, how long. Read-only.
 */
async function storedLookupOnLiveTable(db: Database, ids: readonly string[]): Promise<string> {
  const param = JSON.stringify(ids.map((id) => ({ id })));
  const times: number[] = [];
  let shape = '';
  for (let i = 0; i < 7; i++) {
    const { rows } = await db.query<{ 'QUERY PLAN': Explained[] }>(
      `EXPLAIN (ANALYZE, FORMAT JSON)
       WITH incoming AS (SELECT id FROM jsonb_to_recordset($1::jsonb) AS r (id uuid))
       SELECT s.id, s.version FROM supervisor_states s JOIN incoming USING (id)`,
      [param],
    );
    const explained = rows[0]?.['QUERY PLAN'][0];
    if (!explained) continue;
    times.push(explained['Execution Time']);
    const types: string[] = [];
    const walk = (n: PlanNode) => {
      types.push(n['Node Type'] + (n['Relation Name'] ? ` on ${n['Relation Name']}` : ''));
      for (const c of n.Plans ?? []) walk(c);
    };
    walk(explained.Plan);
    shape = types.join(' > ');
  }
  const { rows } = await db.query<{
    pages: string;
    live: string;
    dead: string;
    autovacuums: string;
  }>(
    `SELECT pg_relation_size('supervisor_states') / 8192 AS pages, n_live_tup AS live, n_dead_tup AS dead,
            autovacuum_count + vacuum_count AS autovacuums
     FROM pg_stat_user_tables WHERE relname = 'supervisor_states'`,
  );
  const t = rows[0];
  return (
    `stored-versions lookup of the last batch (${ids.length} ids) on the table after the loop: ${shape}, ` +
    `best ${fmt(Math.min(...times), 3)} ms / median ${fmt(median(times), 3)} ms; table ${t?.pages} pages, ` +
    `${t?.live} live and ${t?.dead} dead tuples (statistics may lag), ${t?.autovacuums} vacuums so far`
  );
}

async function loopMode(url: string): Promise<void> {
  await withOwnDatabase(url, async (dbUrl) => {
    const db = await openPgDatabase({ connectionString: dbUrl, max: config.poolMax, log });
    let commits = 0;
    let commitRows = 0;
    let commitMs = 0;
    let measuring = false;
    const turns: number[] = [];
    const turnRows: number[] = [];
    let lastIds: string[] = [];
    let storedLookup = '';
    const timed = (inner: SupervisorStore): SupervisorStore => ({
      ...inner,
      async commit(batch) {
        const started = performance.now();
        const result = await inner.commit(batch);
        const resumed = performance.now();
        if (measuring) {
          lastIds = batch.states.map((w) => w.id);
          commits++;
          commitRows += batch.states.length;
          commitMs += resumed - started;
          // What runs before the next check phase: the writer's settling, the answers'
          // continuations, the next answers' transitions and captures.
          setImmediate(() => {
            turns.push(performance.now() - resumed);
            turnRows.push(batch.states.length);
          });
        }
        return result;
      },
    });
    let answersInWindow = 0;
    let windowSeconds = 0;
    let nodeCpuMs = 0;
    let pgCpu = { seconds: 0, processes: 0 };
    let bgCpu = { seconds: 0, processes: 0 };
    let delay = { p50: 0, p99: 0, max: 0 };
    const window = { startUs: 0, endUs: 0 };
    try {
      await migrate(db);
      if (process.env.PROFILE_TIME_JSON !== '0') timeJson();
      const bench = startHost(timed(createSupervisorStore(db)));
      const ids = await seed(bench, config.supervisors);
      console.log(`seeded ${fmt(ids.length)} supervisors; ${config.inFlight} in flight`);
      const loop = startLoop(bench, ids, config.inFlight);
      await sleep(config.warmupSeconds * 1000);

      const eld = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
      const pgBefore = await backendTimes(db, 'mine');
      const bgBefore = await backendTimes(db, 'background');
      const answeredBefore = loop.answered();
      const cpuBefore = process.cpuUsage();
      window.startUs = Number(process.hrtime.bigint() / 1000n);
      const started = performance.now();
      measuring = true;
      jsonTime.measuring = true;
      eld.enable();
      await sleep(config.seconds * 1000);
      eld.disable();
      measuring = false;
      jsonTime.measuring = false;
      windowSeconds = (performance.now() - started) / 1000;
      window.endUs = Number(process.hrtime.bigint() / 1000n);
      const cpu = process.cpuUsage(cpuBefore);
      answersInWindow = loop.answered() - answeredBefore;
      nodeCpuMs = (cpu.user + cpu.system) / 1000;
      pgCpu = cpuSecondsBetween(pgBefore, await backendTimes(db, 'mine'));
      bgCpu = cpuSecondsBetween(bgBefore, await backendTimes(db, 'background'));
      const ms = (ns: number) => Math.max(0, ns / 1e6 - LOOP_SAMPLE_MS);
      delay = { p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), max: ms(eld.max) };
      await loop.stop();
      console.log(`errors: ${loop.errors()}`);
      storedLookup = await storedLookupOnLiveTable(db, lastIds);
      await bench.host.stop();
    } finally {
      await db.close();
    }
    // The pool's backends have exited and flushed their statistics.
    await sleep(1_000);
    const stats = await openPgDatabase({ connectionString: dbUrl, max: 1, log });
    let hot: { upd: string; hot: string; ins: string; pages: string } | undefined;
    try {
      const { rows } = await stats.query<{ upd: string; hot: string; ins: string; pages: string }>(
        `SELECT s.n_tup_upd AS upd, s.n_tup_hot_upd AS hot,
                (SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'supervisor_events') AS ins,
                pg_relation_size('supervisor_states') / 8192 AS pages
         FROM pg_stat_user_tables s WHERE s.relname = 'supervisor_states'`,
      );
      hot = rows[0];
    } finally {
      await stats.close();
    }

    const dir = profileDir();
    await mkdir(dir, { recursive: true });
    const windowFile = join(dir, `window-${process.pid}.json`);
    await writeFile(
      windowFile,
      JSON.stringify({ ...window, processStartUs: PROCESS_START_US, pid: process.pid }),
    );

    const perAnswer = (ms: number) => fmt((ms * 1000) / Math.max(1, answersInWindow), 1);
    const sortedTurns = [...turns].sort((a, b) => a - b);
    const q = (p: number) =>
      sortedTurns[Math.min(sortedTurns.length - 1, Math.floor(p * sortedTurns.length))] ?? 0;
    const meanTurnRows = turnRows.reduce((a, b) => a + b, 0) / Math.max(1, turnRows.length);
    const lines = [
      '',
      '=== Node side: closed loop ===',
      `${fmt(answersInWindow)} durable answers in ${fmt(windowSeconds, 1)} s: ${fmt(answersInWindow / windowSeconds, 1)} answers/s, ${config.inFlight} in flight over ${fmt(config.supervisors)} supervisors`,
      `writer: ${fmt(commits)} commits, ${fmt(commitRows / Math.max(1, commits), 1)} rows/commit, ${fmt(commitMs / Math.max(1, commits), 2)} ms/commit (call → resolution)`,
      `Node CPU: ${fmt((nodeCpuMs / 1000 / windowSeconds) * 100, 0)} % of one core, ${perAnswer(nodeCpuMs)} µs per durable answer`,
      `PostgreSQL backends of this database (${pgCpu.processes}): ${fmt((pgCpu.seconds / windowSeconds) * 100, 0)} % of one core, ${perAnswer(pgCpu.seconds * 1000)} µs per durable answer`,
      `PostgreSQL walwriter + checkpointer + bgwriter (shared with other load): ${perAnswer(bgCpu.seconds * 1000)} µs per answer`,
      `JSON (outermost calls, timed): stringify ${fmt(jsonTime.stringifyCalls / Math.max(1, answersInWindow), 1)} calls and ${perAnswer(jsonTime.stringifyMs)} µs per answer, ` +
        `parse ${fmt(jsonTime.parseCalls / Math.max(1, answersInWindow), 1)} calls and ${perAnswer(jsonTime.parseMs)} µs per answer`,
      `event-loop delay: p50 ${fmt(delay.p50, 2)} ms, p99 ${fmt(delay.p99, 2)} ms, max ${fmt(delay.max, 2)} ms`,
      `turn after a commit resolves (until the next check phase): p50 ${fmt(q(0.5), 2)} ms, p99 ${fmt(q(0.99), 2)} ms over ${fmt(turns.length)} commits of ${fmt(meanTurnRows, 1)} rows: ${fmt((q(0.5) * 1000) / Math.max(1, meanTurnRows), 1)} µs per answer at p50`,
      hot
        ? `HOT (whole run, warm-up included): ${fmt(Number(hot.hot))} of ${fmt(Number(hot.upd))} updates of supervisor_states (${pct(Number(hot.hot), Number(hot.upd))}); ${fmt(Number(hot.ins))} journal rows; table ${hot.pages} pages`
        : 'HOT: no statistics',
      storedLookup,
      `window for the profile summary: ${windowFile}`,
    ];
    console.log(lines.join('\n'));
  });
}

// ---------------------------------------------------------------------------------------
// summarize: a .cpuprofile

interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The module a frame belongs to, for the grouped shares. */
function moduleOf(functionName: string, url: string): string {
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return 'idle (waiting for I/O)';
  if (functionName === '(program)') return 'V8/native (program)';
  if (functionName === 'jsonStringifyTimed' || functionName === 'jsonParseTimed')
    return 'JSON.stringify/parse';
  if (url.includes('/node_modules/xstate/')) return 'xstate';
  if (
    /\/node_modules\/(pg|pg-protocol|pg-pool|pg-types|pgpass|pg-connection-string|postgres-[a-z]+)\//.test(
      url,
    )
  )
    return 'pg';
  if (url.includes('/node_modules/zod/')) return 'zod';
  if (url.includes('/node_modules/pino')) return 'pino';
  if (url.includes('/node_modules/tsx/') || url.includes('/node_modules/esbuild'))
    return 'tsx loader';
  const dep = /\/node_modules\/((@[^/]+\/)?[^/]+)\//.exec(url);
  if (dep) return `other dependency (${dep[1]})`;
  const src = /\/src\/([^/]+)\//.exec(url);
  if (src) return `steward src/${src[1]}`;
  if (url.includes('/bench/')) return 'bench driver';
  if (url.startsWith('node:')) return 'node internals (net, streams, timers, ...)';
  return url === '' ? 'native bindings and builtins (writev, ...)' : 'other';
}

/** The main thread's profile (thread 0) of the newest run in `dir`. */
function newestProfile(dir: string): string {
  const files = readdirSync(dir)
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; tsx's loader thread writes one too.
    .filter((f) => f.endsWith('.cpuprofile') && f.split('.')[4] === '0')
    .map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  if (!files[0]) throw new Error(`no main-thread .cpuprofile in ${dir}`);
  return join(dir, files[0].f);
}

const NOT_WORK = new Set(['(root)', '(idle)', '(program)', '(garbage collector)']);

function summarize(target: string): void {
  const file = target.endsWith('.cpuprofile') ? target : newestProfile(target);
  const dir = file.slice(0, file.lastIndexOf('/'));
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const pid = file.split('/').pop()?.split('.')[3];
  let window: { startUs: number; endUs: number; processStartUs: number } | undefined;
  try {
    window = JSON.parse(readFileSync(join(dir, `window-${pid}.json`), 'utf8'));
  } catch {
    window = undefined;
  }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // Self time per profile node, within the window.
  let t = profile.startTime;
  const self = new Map<number, number>();
  let total = 0;
  const inWindow = (at: number) => !window || (at >= window.startUs && at <= window.endUs);
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    // A sample stands for the interval up to the next one.
    const span = profile.timeDeltas[i + 1] ?? 0;
    if (!inWindow(t)) continue;
    const id = profile.samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + span);
    total += span;
  }
  const frameKey = (id: number) => {
    const f = byId.get(id)?.callFrame;
    if (!f) return '?';
    const path = f.url.replace(/^file:\/\/.*?\/(node_modules|src|bench)\//, '$1/');
    // tsx's output keeps no useful line numbers for our own files.
    const where = !f.url
      ? ''
      : path.startsWith('node_modules/') || path.startsWith('node:')
        ? `${path}:${f.lineNumber + 1}`
        : path;
    return `${f.functionName || '(anonymous)'} ${where}`.trim();
  };
  const moduleOfNode = (id: number) => {
    const f = byId.get(id)?.callFrame;
    return moduleOf(f?.functionName ?? '', f?.url ?? '');
  };
  const perFunction = new Map<string, number>();
  const perModule = new Map<string, number>();
  const inclusiveModule = new Map<string, number>();
  const inclusiveFunction = new Map<string, number>();
  for (const [id, us] of self) {
    const key = frameKey(id);
    perFunction.set(key, (perFunction.get(key) ?? 0) + us);
    const mod = moduleOfNode(id);
    perModule.set(mod, (perModule.get(mod) ?? 0) + us);
    // Inclusive: once per sample for each module and function on the stack.
    const modules = new Set<string>();
    const functions = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = byId.get(at)?.callFrame.functionName ?? '';
      if (NOT_WORK.has(name)) continue;
      modules.add(moduleOfNode(at));
      functions.add(frameKey(at));
    }
    for (const m of modules) inclusiveModule.set(m, (inclusiveModule.get(m) ?? 0) + us);
    for (const f of functions) inclusiveFunction.set(f, (inclusiveFunction.get(f) ?? 0) + us);
  }
  const idle = perModule.get('idle (waiting for I/O)') ?? 0;
  const busy = total - idle;
  const share = (us: number) => `${pct(us, total).padStart(7)} ${pct(us, busy).padStart(7)}`;
  console.log(`profile ${file}`);
  console.log(
    window
      ? `window: ${fmt((window.endUs - window.startUs) / 1e6, 1)} s (the profile started ${fmt((window.processStartUs - profile.startTime) / 1000, 0)} ms before the script's first line)`
      : 'window: the whole profile (no window file)',
  );
  console.log(`sampled ${fmt(total / 1000, 0)} ms, of which not idle ${fmt(busy / 1000, 0)} ms`);
  console.log(
    '\ntop 20 functions by self time (ms, share of sampled time, share of non-idle time):',
  );
  const top = [...perFunction]
    .filter(([key]) => !key.startsWith('(idle)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 20);
  for (const [key, us] of top)
    console.log(`  ${fmt(us / 1000, 0).padStart(6)}  ${share(us)}  ${key}`);
  console.log(
    '\nby module, self time (ms, share of sampled, share of non-idle), then inclusive share of non-idle:',
  );
  for (const [mod, us] of [...perModule].sort((a, b) => b[1] - a[1])) {
    const inc = mod.startsWith('idle')
      ? ''
      : `   inclusive ${pct(inclusiveModule.get(mod) ?? 0, busy)}`;
    console.log(`  ${mod.padEnd(44)} ${fmt(us / 1000, 0).padStart(6)}  ${share(us)}${inc}`);
  }
  console.log(
    '\ntop 25 functions of steward, xstate, zod and pg by inclusive time (share of non-idle):',
  );
  const ours = [...inclusiveFunction]
    .filter(
      ([key]) => /(src|node_modules\/(xstate|zod|pg[a-z-]*))\//.test(key) || key.startsWith('json'),
    )
    .sort((a, b) => b[1] - a[1])
    .slice(0, 25);
  for (const [key, us] of ours) console.log(`  ${pct(us, busy).padStart(7)}  ${key}`);
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const mode = process.argv[2];
  if (mode === 'summarize') {
    summarize(process.argv[3] ?? profileDir());
    return;
  }
  const url = process.env.DATABASE_URL;
  if (!url || (mode !== 'explain' && mode !== 'loop')) {
    console.error(
      'usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/profileCommit.ts explain|loop\n' +
        '       npx tsx bench/profileCommit.ts summarize <dir or .cpuprofile>',
    );
    process.exit(1);
  }
  console.log(
    `server ${databaseUrlFor(url, '').replace(/\/\/[^@]*@/, '//')}; ${JSON.stringify(config)}`,
  );
  if (mode === 'explain') await explainMode(url);
  else await loopMode(url);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  // Held answers and open handles would keep a failed run alive.
  process.exit(1);
});
