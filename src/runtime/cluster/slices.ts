// Where a supervisor belongs when several nodes share the database: one of a fixed number
// of slices, the first byte of its id. The database computes the same (get_byte(uuid_send
// (id), 0), migration 20261204000000), so that the commit can fence a row by its id alone.
import { randomInt, randomUUID } from 'node:crypto';

/** How many slices there are, fixed by the migration that made `slice_leases`. */
export const SLICE_COUNT = 256;

/** The slice of a supervisor id (a UUID): its first byte. */
export function sliceOf(id: string): number {
  return Number.parseInt(id.slice(0, 2), 16);
}

/** A new supervisor id in one of `slices` (a random v4 UUID whose first byte is set). */
export function idInSlices(slices: readonly number[]): string {
  const slice = slices[randomInt(slices.length)] as number;
  return slice.toString(16).padStart(2, '0') + randomUUID().slice(2);
}
