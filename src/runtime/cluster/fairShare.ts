import { SLICE_COUNT } from '../../model/slices.ts';

/**
 * How many slices one of `aliveNodes` nodes may hold: rounded up, so that when every node
 * holds its share no slice is left without one.
 *
 * @example
 * fairShare(3); // 86: 86 + 86 + 84 = 256
 */
export function fairShare(aliveNodes: number): number {
  return Math.ceil(SLICE_COUNT / Math.max(1, aliveNodes));
}

/** What a node knows of the others when it decides to give slices back. */
export interface ShareView {
  /** Slices this node holds. */
  held: number;
  /** Slices each other alive node holds under an unexpired lease. */
  others: readonly number[];
  /** The most slices given back in one period, so that load moves gradually. */
  perPeriod: number;
}

/**
 * How many slices a node gives back now: none unless it holds more than its fair share
 * while others hold less than theirs, and never more than those others lack. (Slices
 * nobody holds need no term of their own: with every count from one look at the table, the
 * others always lack at least the surplus, since the shares are rounded up.)
 *
 * @example
 * slicesToGiveBack({ held: 256, others: [0], perPeriod: 16 }); // 16
 */
export function slicesToGiveBack(view: ShareView): number {
  const share = fairShare(view.others.length + 1);
  const surplus = view.held - share;
  if (surplus <= 0) return 0;
  const lacking = view.others.reduce((sum, n) => sum + Math.max(0, share - n), 0);
  return Math.min(surplus, lacking, view.perPeriod);
}
