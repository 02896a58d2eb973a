// explain mode's printed results: the detail of one batch size and the table across sizes.
import { fmt } from '../support.ts';
import type { Parse, Run } from './explainRuns.ts';
import { GROUPS, grouped } from './planBreakdown.ts';
import type { SizeReport } from './sizeReport.ts';
import { median, pct } from './stats.ts';

function medianRun(runs: readonly Run[]): Run {
  const sorted = [...runs].sort((a, b) => a.b.executionMs - b.b.executionMs);
  return sorted[Math.floor(sorted.length / 2)] as Run;
}

const execution = (runs: readonly Run[]) => runs.map((r) => r.b.executionMs);

/** "median (min)" of per-row µs. */
function perRowCell(values: readonly number[], size: number): string {
  return `${fmt((median(values) * 1000) / size, 1)} (${fmt((Math.min(...values) * 1000) / size, 1)})`;
}

export function printSizeDetail(r: SizeReport): void {
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

export function printSizeTable(reports: readonly SizeReport[]): void {
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
