// New supervisor ids in the slices a node holds (the slice of an id: src/model/slices.ts).
import { randomInt, randomUUID } from 'node:crypto';
import { sliceOf } from '../../model/slices.ts';

/**
 * A new supervisor id in one of `slices`: a random v4 UUID whose first byte is chosen so
 * that it falls in the slice (the slice is the first byte XOR the last).
 */
export function idInSlices(slices: readonly number[]): string {
  const slice = slices[randomInt(slices.length)] as number;
  const random = randomUUID();
  const last = Number.parseInt(random.slice(-2), 16);
  const id = (slice ^ last).toString(16).padStart(2, '0') + random.slice(2);
  if (sliceOf(id) !== slice) throw new Error(`idInSlices: ${id} is not in slice ${slice}`);
  return id;
}
