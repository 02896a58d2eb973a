import { describe, expect, it } from 'vitest';
import { waitFor } from './waitFor.ts';

describe('waitFor', () => {
  it('returns once the check holds, asking again meanwhile', async () => {
    let asked = 0;
    await waitFor('the third ask', () => ++asked >= 3, { intervalMs: 1 });
    expect(asked).toBe(3);
  });

  it('fails after the timeout naming what it waited for and what the check last threw', async () => {
    await expect(waitFor('nothing', () => false, { timeoutMs: 30 })).rejects.toThrow(
      'timed out after 30 ms waiting for nothing',
    );
    const throwing = () => {
      throw new Error('row not found');
    };
    await expect(waitFor('the row', throwing, { timeoutMs: 30 })).rejects.toThrow(
      'timed out after 30 ms waiting for the row; the check last threw: Error: row not found',
    );
  });
});
