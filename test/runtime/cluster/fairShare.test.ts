import { describe, expect, it } from 'vitest';
import { fairShare, slicesToGiveBack } from '../../../src/runtime/cluster/fairShare.ts';

describe('fair share of the slices', () => {
  it('rounds up, so that every slice has a node when each holds its share', () => {
    expect([1, 2, 3, 5, 256, 300].map(fairShare)).toEqual([256, 128, 86, 52, 1, 1]);
    expect(fairShare(0)).toBe(256);
  });

  it('gives back the surplus a few per period, only while another node holds less than its share', () => {
    expect(slicesToGiveBack({ held: 256, others: [0], perPeriod: 16 })).toBe(16);
    expect(slicesToGiveBack({ held: 130, others: [126], perPeriod: 16 })).toBe(2);
    expect(slicesToGiveBack({ held: 128, others: [128, 0], perPeriod: 64 })).toBe(42);
    // 86 + 86 + 84: nobody above the share, nothing moves.
    expect(slicesToGiveBack({ held: 86, others: [86, 84], perPeriod: 16 })).toBe(0);
  });

  it('gives back no more than the others lack, a node above its share lacking nothing', () => {
    // Out of step (a count read while slices moved): the one node below lacks 6.
    expect(slicesToGiveBack({ held: 100, others: [100, 80], perPeriod: 256 })).toBe(6);
    expect(slicesToGiveBack({ held: 100, others: [100, 86], perPeriod: 256 })).toBe(0);
  });
});
