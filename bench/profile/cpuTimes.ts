// loop mode's CPU accounting of the PostgreSQL backends, from /proc: their time is not in
// Node's process.cpuUsage().
import { readFileSync } from 'node:fs';
import type { Database } from '../../src/persistence/database.ts';

export interface ProcTimes {
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

export async function backendTimes(
  db: Database,
  which: 'mine' | 'background',
): Promise<ProcTimes[]> {
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
