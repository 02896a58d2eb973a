// CPU time of the benchmark's own Node process and of the PostgreSQL processes that work
// for it, read from /proc: the backends' time is not in Node's process.cpuUsage().
import { readFileSync } from 'node:fs';

export interface ProcTimes {
  pid: number;
  ticks: number;
}

/** Runs one statement: a Steward `Database` and a `pg.Pool` both fit. */
export interface PidSource {
  query(sql: string): Promise<{ rows: unknown[] }>;
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

/**
 * The CPU ticks so far of the backends connected to the current database ('mine'), or of
 * the server's WAL writer, checkpointer and background writer ('background': shared with
 * any other load on the server, so only a bound).
 */
export async function backendTimes(
  source: PidSource,
  which: 'mine' | 'background',
): Promise<ProcTimes[]> {
  const { rows } = await source.query(
    which === 'mine'
      ? 'SELECT pid FROM pg_stat_activity WHERE datname = current_database()'
      : `SELECT pid FROM pg_stat_activity WHERE backend_type IN ('walwriter', 'checkpointer', 'background writer')`,
  );
  const times: ProcTimes[] = [];
  for (const { pid } of rows as Array<{ pid: number }>) {
    const ticks = procTicks(pid);
    if (ticks !== undefined) times.push({ pid, ticks });
  }
  return times;
}

/** CPU seconds spent between two readings by the processes present in both. */
export function cpuSecondsBetween(
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

/** One reading of both sides' CPU time, taken at the start or the end of a window. */
export interface CpuReading {
  node: NodeJS.CpuUsage;
  backends: ProcTimes[];
  background: ProcTimes[];
}

export async function readCpu(source: PidSource): Promise<CpuReading> {
  const backends = await backendTimes(source, 'mine');
  const background = await backendTimes(source, 'background');
  return { node: process.cpuUsage(), backends, background };
}

/** CPU per unit of work over a window, each side in µs. */
export interface CpuPerUnit {
  /** This Node process: the runtime and the benchmark's own driver. */
  nodeUs: number;
  /** The backends of the benchmark's database plus the WAL writer, checkpointer, bgwriter. */
  postgresUs: number;
  backends: number;
  /** The window's Node CPU as a share of one core. */
  nodeShare: number;
}

export function cpuPerUnit(
  before: CpuReading,
  after: CpuReading,
  units: number,
  windowSeconds: number,
): CpuPerUnit {
  const nodeSeconds =
    (after.node.user - before.node.user + after.node.system - before.node.system) / 1e6;
  const mine = cpuSecondsBetween(before.backends, after.backends);
  const background = cpuSecondsBetween(before.background, after.background);
  const per = (seconds: number) => (units > 0 ? (seconds * 1e6) / units : Number.NaN);
  return {
    nodeUs: per(nodeSeconds),
    postgresUs: per(mine.seconds + background.seconds),
    backends: mine.processes,
    nodeShare: nodeSeconds / windowSeconds,
  };
}
