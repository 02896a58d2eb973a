/**
 * How many slices the supervisors are spread over: fixed by the migration that created
 * `slice_leases` (`migrations/20261204000000_slices_and_leases.sql`), since changing it
 * would move every supervisor to another slice.
 */
export const SLICE_COUNT = 256;

/** A lease on one slice as its holder knows it: the epoch its writes must carry. */
export interface SliceLease {
  slice: number;
  epoch: number;
}

/**
 * The slice of a supervisor, the same the database derives for `supervisor_states.slice`:
 * the first byte of the id XOR its last, so that time-ordered ids (UUIDv7) spread too. A
 * node uses it to know whether it may act for a supervisor without asking the database.
 *
 * @example
 * if (!keeper.holds(sliceOf(id))) throw notOwnedHere(id);
 */
export function sliceOf(supervisorId: string): number {
  const hex = supervisorId.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new TypeError(`not a UUID: ${supervisorId}`);
  return Number.parseInt(hex.slice(0, 2), 16) ^ Number.parseInt(hex.slice(30, 32), 16);
}
