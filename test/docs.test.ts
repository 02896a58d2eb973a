import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { ERROR_CODES } from '../src/errors.ts';

it('lists every error code in docs/protocol.md', async () => {
  const doc = await readFile(new URL('../docs/protocol.md', import.meta.url), 'utf8');
  const missing = ERROR_CODES.filter((code) => !doc.includes(`\`${code}\``));
  expect(missing).toEqual([]);
});
