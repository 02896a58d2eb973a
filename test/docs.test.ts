import { readdir, readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { documentedErrorTable, errorTable, PROTOCOL_DOC } from '../scripts/errorTable.ts';
import { documentedJournalTable, journalTable } from '../scripts/journalTable.ts';
import { JOURNAL_KINDS } from '../src/model/journalKinds.ts';
import { ERROR_REGISTRY } from '../src/protocol/errorCodes.ts';
import { CLIENT_FRAME_TYPES, ServerFrame } from '../src/protocol/frames.ts';

const REGISTRY_CODES = Object.keys(ERROR_REGISTRY);

it("lists exactly the registry's error codes in the table of docs/protocol.md", async () => {
  const table = documentedErrorTable(await readFile(PROTOCOL_DOC, 'utf8'));
  const listed = [...table.matchAll(/^\| `(ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]);
  expect({
    missing: REGISTRY_CODES.filter((code) => !listed.includes(code)),
    extra: listed.filter((code) => !REGISTRY_CODES.includes(code as string)),
  }).toEqual({ missing: [], extra: [] });
  expect(listed).toHaveLength(REGISTRY_CODES.length);
});

it('has the error table of docs/protocol.md as npm run docs:errors writes it', async () => {
  // Statuses, retries and texts come from the registry: edit src/protocol/errorCodes.ts,
  // then run `npm run docs:errors`.
  const doc = await readFile(PROTOCOL_DOC, 'utf8');
  expect(documentedErrorTable(doc)).toBe(errorTable());
});

it("lists exactly the registry's journal kinds in the table of docs/protocol.md", async () => {
  const table = documentedJournalTable(await readFile(PROTOCOL_DOC, 'utf8'));
  const listed = [...table.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
  expect(listed).toEqual([...JOURNAL_KINDS]);
});

it('has the journal table of docs/protocol.md as npm run docs:journal writes it', async () => {
  // What each kind records and who writes it come from the registry: edit
  // src/model/journalKinds.ts, then run `npm run docs:journal`.
  const doc = await readFile(PROTOCOL_DOC, 'utf8');
  expect(documentedJournalTable(doc)).toBe(journalTable());
});

it('names no error code in README.md or docs/ that the registry does not declare', async () => {
  const files = [
    new URL('../README.md', import.meta.url),
    ...(await readdir(new URL('../docs/', import.meta.url)))
      .filter((name) => name.endsWith('.md'))
      .map((name) => new URL(`../docs/${name}`, import.meta.url)),
  ];
  const unknown: string[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    for (const [, code] of text.matchAll(/\b(ERR_[A-Z_]*[A-Z])\b/g)) {
      if (!REGISTRY_CODES.includes(code as string)) unknown.push(`${file.pathname}: ${code}`);
    }
  }
  expect(unknown).toEqual([]);
});

it('documents every client and server frame type in docs/protocol.md', async () => {
  const doc = await readFile(PROTOCOL_DOC, 'utf8');
  const serverTypes = ServerFrame.options.map((frame) => frame.shape.type.value);
  const missing = [...CLIENT_FRAME_TYPES, ...serverTypes].filter((t) => !doc.includes(`\`${t}\``));
  expect(serverTypes.length).toBeGreaterThan(5);
  expect(missing).toEqual([]);
});
