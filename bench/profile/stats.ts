// The two numbers every mode's report prints: a median of runs and a share.
import { fmt } from '../support.ts';

/**
 * The median of unsorted values, averaging the middle two of an even count (support.ts's
 * `quantile` takes the nearest rank instead, which would move the reported figures).
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** `part` as a percentage of `whole`, or '-' when there is no whole. */
export function pct(part: number, whole: number): string {
  return whole > 0 ? `${fmt((part / whole) * 100, 1)} %` : '-';
}
