import { readdir, readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { documentedErrorTable, errorTable, PROTOCOL_DOC } from '../scripts/errorTable.ts';
import { documentedJournalTable, journalTable } from '../scripts/journalTable.ts';
import { JOURNAL_KINDS } from '../src/model/journalKinds.ts';
import { ERROR_REGISTRY } from '../src/protocol/errorCodes.ts';
import { CLIENT_FRAME_TYPES, ClientFrame, ServerFrame } from '../src/protocol/frames.ts';

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

/** The rows of the markdown table that follows `heading` in `doc`, as cells. */
function tableAfter(doc: string, heading: string): string[][] {
  const rest = doc.slice(doc.indexOf(heading));
  const table = rest.slice(rest.indexOf('\n|'), rest.indexOf('\n\n', rest.indexOf('\n|')));
  return table
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.split(' | ').map((cell) => cell.replace(/^\| |\s\|$/g, '')));
}

/** The names a cell puts in backticks: `name`, `name?` and `name: what` alike. */
const namesIn = (cell: string) =>
  [...cell.matchAll(/`([a-zA-Z.]+)\??(?:: [^`]*)?`/g)].map((m) => m[1]);
const fieldsOf = (frame: { shape: Record<string, unknown> }, ...left: string[]) =>
  Object.keys(frame.shape).filter((key) => key !== 'type' && !left.includes(key));

it('names every field of every server frame in its row of the server → client table', async () => {
  const rows = tableAfter(await readFile(PROTOCOL_DOC, 'utf8'), '**Server → client.**');
  const missing: string[] = [];
  for (const frame of ServerFrame.options) {
    const type = frame.shape.type.value;
    const row = rows.find((cells) => namesIn(cells[0] ?? '').includes(type));
    // Frames about a supervisor all carry supervisorId and version, as the table says above.
    const about = 'supervisorId' in frame.shape && 'version' in frame.shape;
    const fields = fieldsOf(frame, ...(about ? ['supervisorId', 'version'] : []));
    const named = namesIn(row?.[1] ?? '');
    for (const field of fields) if (!named.includes(field)) missing.push(`${type}.${field}`);
  }
  expect(missing).toEqual([]);
});

it('names every field of the client frames and of their replies in the client → server table', async () => {
  const rows = tableAfter(await readFile(PROTOCOL_DOC, 'utf8'), '**Client → server**');
  const wrong: string[] = [];
  for (const frame of ClientFrame.options) {
    const type = frame.shape.type.value;
    const row = rows.find((cells) => namesIn(cells[0] ?? '')[0] === type);
    const named = namesIn(row?.[1] ?? '');
    for (const field of fieldsOf(frame)) if (!named.includes(field)) wrong.push(`${type}.${field}`);
    // `reply { a, b }`: exactly the fields of that reply besides its type and request id.
    for (const [, reply, list] of (row?.[2] ?? '').matchAll(/`([a-z.]+) \{ ([^}]*) \}`/g)) {
      const schema = ServerFrame.options.find((f) => f.shape.type.value === reply);
      const listed = (list ?? '').split(', ').sort();
      const fields = schema ? fieldsOf(schema, 'requestId').sort() : ['(no such frame)'];
      if (listed.join() !== fields.join()) wrong.push(`${reply}: ${listed} instead of ${fields}`);
    }
  }
  expect(rows.length).toBe(ClientFrame.options.length);
  expect(wrong).toEqual([]);
});
