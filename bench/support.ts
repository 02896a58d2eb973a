import type { Database } from '../src/persistence/database.ts';
import { describePostgresUrl, openPgDatabase } from '../src/persistence/pgDatabase.ts';
import type { CommitBatch, SupervisorStore } from '../src/persistence/supervisorStore.ts';

/** The same server and credentials, another database. */
export function databaseUrlFor(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `host:port/db` of a URL, never its password. */
export const describeUrl = describePostgresUrl;

async function onMaintenanceDb<T>(url: string, fn: (db: Database) => Promise<T>): Promise<T> {
  // CREATE/DROP DATABASE cannot run inside the database they name.
  const admin = await openPgDatabase({ connectionString: databaseUrlFor(url, 'postgres'), max: 1 });
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}

/** Creates an empty database on the server of `url`; resolves its URL. */
export async function createDatabase(url: string, name: string): Promise<string> {
  await onMaintenanceDb(url, (admin) => admin.exec(`CREATE DATABASE ${quoteIdent(name)}`));
  return databaseUrlFor(url, name);
}

/** Drops a database, disconnecting whoever is still on it. */
export async function dropDatabase(url: string, name: string): Promise<void> {
  await onMaintenanceDb(url, (admin) =>
    admin.exec(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`),
  );
}

/** What the counting store saw of the snapshot writer's group commits. */
export interface CommitStats {
  batches: number;
  rows: number;
  events: number;
  /** Sum of the wall-clock time of every commit call, in ms. */
  commitMs: number;
  largestBatch: number;
}

export function emptyCommitStats(): CommitStats {
  return { batches: 0, rows: 0, events: 0, commitMs: 0, largestBatch: 0 };
}

/**
 * Wraps a store so the benchmark sees the writer's batches: the host does not expose the
 * writer's own stats, and this costs one object per commit, not per supervisor.
 */
export function countingStore(store: SupervisorStore, stats: CommitStats): SupervisorStore {
  return {
    ...store,
    async commit(batch: CommitBatch) {
      const started = performance.now();
      const result = await store.commit(batch);
      stats.batches++;
      stats.rows += batch.states.length;
      stats.events += batch.events.length;
      stats.commitMs += performance.now() - started;
      stats.largestBatch = Math.max(stats.largestBatch, batch.states.length);
      return result;
    },
  };
}

/** Reads a positive number from the environment, or the default; a bad value stops the run. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`${name} must be a positive number, got "${raw}"`);
    process.exit(1);
  }
  return value;
}

/** Resolves after the next turns of the event loop, so GC finalizers and timers settle. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 10));
}

/** Runs a full GC several times: one pass may leave garbage that a finalizer just freed. */
export async function fullGc(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run node with --expose-gc');
  for (let i = 0; i < 4; i++) {
    gc();
    await settle();
  }
}

/**
 * Runs `task` for 0..count-1 with at most `concurrency` running at once, calling
 * `onProgress` after each completion.
 */
export async function runPool(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
  onProgress?: (done: number) => void,
): Promise<void> {
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      await task(index);
      done++;
      onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** The q-quantile (0..1) of ascending-sorted samples, nearest rank. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** A number with thousands separators and a fixed number of decimals. */
export function fmt(value: number, decimals = 0): string {
  return value.toLocaleString('en-US', {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The line the memory child prints its result on; everything else it prints is progress. */
export const RESULT_PREFIX = 'BENCH_MEMORY_RESULT ';

/** The line on which bench/restoreChild.ts reports its result. */
export const RESTORE_RESULT_PREFIX = 'BENCH_RESTORE_RESULT ';

/** What the memory child measured. */
export interface MemoryResult {
  supervisors: number;
  warmSupervisors: number;
  heapBefore: number;
  heapAfter: number;
  bytesPerSupervisor: number;
  rssBefore: number;
  rssAfter: number;
  spawnSeconds: number;
  hosted: number;
  /** Supervisors passivated when the heap was read (0 without passivation). */
  passivated: number;
}

/** Prefix of the result line bench/wsClients.ts prints. */
export const WS_RESULT_PREFIX = 'BENCH_WS_RESULT ';

/** A FIFO of the supervisors nobody is answering now: the least recently answered first. */
export class IdleQueue {
  private readonly items: string[];
  private head = 0;
  private size = 0;
  constructor(capacity: number) {
    this.items = new Array<string>(capacity);
  }
  put(id: string): void {
    this.items[(this.head + this.size) % this.items.length] = id;
    this.size++;
  }
  take(): string {
    if (this.size === 0) throw new Error('no idle supervisor: more in flight than supervisors');
    const id = this.items[this.head] as string;
    this.head = (this.head + 1) % this.items.length;
    this.size--;
    return id;
  }
}
