// Fixtures of the slice lease tests: rows and waits on the real database, no mocks.
import { randomUUID } from 'node:crypto';
import type { Database } from '../../src/persistence/database.ts';
import { openPgDatabase } from '../../src/persistence/pgDatabase.ts';
import type { SliceMembership } from '../../src/runtime/cluster/membership.ts';
import { waitFor } from './waitFor.ts';

/** A UUIDv7 (RFC 9562): 48 bits of milliseconds first, random bits after. */
export function uuidV7(ms: number): string {
  const hex = ms.toString(16).padStart(12, '0') + randomUUID().replace(/-/g, '').slice(12);
  const v = `${hex.slice(0, 12)}7${hex.slice(13, 16)}8${hex.slice(17)}`;
  return `${v.slice(0, 8)}-${v.slice(8, 12)}-${v.slice(12, 16)}-${v.slice(16, 20)}-${v.slice(20)}`;
}

/** Inserts a bare supervisor row, as a test fixture (the writer is not under test here). */
export async function insertSupervisor(db: Database, id: string): Promise<void> {
  await db.query(
    `INSERT INTO supervisor_states (id, machine_id, machine_version, snapshot, version)
     VALUES ($1, 'm', 1, '{}', 1)`,
    [id],
  );
}

/** Every slice free again, under the epochs they reached. */
export async function freeAll(db: Database): Promise<void> {
  await db.query('UPDATE slice_leases SET node_id = NULL, expires_at = NULL');
}

/** Waits until the database's clock has passed every lease of `nodeId`. */
export async function waitExpired(db: Database, nodeId: string): Promise<void> {
  await waitFor(`the leases of ${nodeId} to expire`, async () => {
    const { rows } = await db.query(
      'SELECT 1 FROM slice_leases WHERE node_id = $1 AND expires_at > now()',
      [nodeId],
    );
    return rows.length === 0;
  });
}

/**
 * Another pool on the same PostgreSQL database as `db`, as a second node's would be;
 * through `port` (a proxy's) when given. Closing it leaves the database alone.
 */
export async function openAnotherPool(
  db: Database,
  options: { max?: number; port?: number; statementTimeoutMs?: number } = {},
): Promise<Database> {
  const url = new URL(process.env.DATABASE_URL as string);
  url.pathname = db.location.slice(db.location.lastIndexOf('/'));
  if (options.port !== undefined) url.host = `127.0.0.1:${options.port}`;
  return openPgDatabase({
    connectionString: url.toString(),
    max: options.max ?? 4,
    ...(options.statementTimeoutMs === undefined
      ? {}
      : { statementTimeoutMs: options.statementTimeoutMs }),
  });
}

/** A node's leases as a host sees them, set by the test (mirror them with `grantLeases`). */
export class TestLeases implements SliceMembership {
  readonly epochs = new Map<number, number>();
  constructor(readonly nodeId: string) {}
  epochOf(slice: number) {
    return this.epochs.get(slice);
  }
  holds(slice: number) {
    return this.epochs.has(slice);
  }
  held() {
    return [...this.epochs.keys()];
  }
}

/** Gives `leases` these slices under `epoch`, in memory and in slice_leases, for a while. */
export async function grantLeases(
  db: Database,
  leases: TestLeases,
  slices: number[],
  epoch: number,
): Promise<void> {
  for (const slice of slices) leases.epochs.set(slice, epoch);
  await db.query(
    `UPDATE slice_leases SET node_id = $1, epoch = $2, expires_at = now() + interval '10 minutes'
     WHERE slice = ANY ($3::smallint[])`,
    [leases.nodeId, epoch, slices],
  );
}
