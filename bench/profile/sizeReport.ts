// explain mode at one batch size: every measurement of its statement, gathered into a
// report and printed in detail.
import type pg from 'pg';
import type { CommitBatch } from '../../src/persistence/supervisorStore.ts';
import { type Statement, statementOf, subBatch, withoutSnapshots } from './batchStatement.ts';
import { config } from './config.ts';
import {
  explainOnce,
  jsonbParseMicros,
  type Locks,
  locksOf,
  type Parse,
  plainOnce,
  type Run,
  recordsetMs,
  type SchemaNames,
  stateColumns,
} from './explainRuns.ts';
import { printSizeDetail } from './sizeTables.ts';

export const SIZES = [1, 32, 256] as const;
export const LARGEST = 256;

export interface SizeReport {
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

export async function profileSize(
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
  for (const param of statement.params as unknown[]) {
    // The jsonb parameters only: the ids array (the last one) is not parsed as jsonb.
    if (typeof param === 'string') parse.push(await jsonbParseMicros(client, param));
  }
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
