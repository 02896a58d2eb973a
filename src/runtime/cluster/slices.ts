// New supervisor ids in the slices a node holds (the slice of an id: `sliceOf` in
// src/model/slices.ts, the first byte XOR the last).
import { randomInt, randomUUID } from 'node:crypto';

/**
 * A new supervisor id in one of `slices`: a random v4 UUID whose first byte is chosen so
 * that it falls in the slice (the slice is the first byte XOR the last).
 */
export function idInSlices(slices: readonly number[]): string {
  const slice = slices[randomInt(slices.length)] as number;
  const random = randomUUID();
  const last = Number.parseInt(random.slice(-2), 16);
  return (slice ^ last).toString(16).padStart(2, '0') + random.slice(2);
}
