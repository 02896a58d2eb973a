import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { ERROR_CODES } from '../src/errors.ts';
import { CLIENT_FRAME_TYPES, ServerFrame } from '../src/protocol/frames.ts';

it('lists every error code in docs/protocol.md', async () => {
  const doc = await readFile(new URL('../docs/protocol.md', import.meta.url), 'utf8');
  const missing = ERROR_CODES.filter((code) => !doc.includes(`\`${code}\``));
  expect(missing).toEqual([]);
});

it('documents every client and server frame type in docs/protocol.md', async () => {
  const doc = await readFile(new URL('../docs/protocol.md', import.meta.url), 'utf8');
  const serverTypes = ServerFrame.options.map((frame) => frame.shape.type.value);
  const missing = [...CLIENT_FRAME_TYPES, ...serverTypes].filter((t) => !doc.includes(`\`${t}\``));
  expect(serverTypes.length).toBeGreaterThan(5);
  expect(missing).toEqual([]);
});
