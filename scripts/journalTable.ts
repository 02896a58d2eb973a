// Writes the table of journal kinds in docs/protocol.md from the registry,
// src/model/journalKinds.ts (`npm run docs:journal`). test/docs.test.ts fails when the
// table differs from what this writes, so the docs cannot drift from the code.
import { readFile, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { JOURNAL_KINDS, JOURNAL_REGISTRY } from '../src/model/journalKinds.ts';

export const PROTOCOL_DOC = new URL('../docs/protocol.md', import.meta.url);

const BEGIN = '<!-- journal-kinds: written by npm run docs:journal -->\n';
const END = '<!-- /journal-kinds -->\n';

/** The markdown table of every journal kind of the registry, in registry order. */
export function journalTable(): string {
  const rows = JOURNAL_KINDS.map((kind) => {
    const spec = JOURNAL_REGISTRY[kind];
    const cells = [`\`${kind}\``, spec.records, spec.writtenBy];
    return `| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |\n`;
  });
  return ['| kind | records | written by |\n', '| --- | --- | --- |\n', ...rows].join('');
}

/** Where the table is in the doc: just after its opening marker, up to its closing one. */
function tableBounds(doc: string): { start: number; end: number } {
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END, begin);
  if (begin < 0 || end < 0) throw new Error(`docs/protocol.md has no ${BEGIN.trim()} block`);
  return { start: begin + BEGIN.length, end };
}

/** The doc with the table between its markers replaced by `table`. */
export function withJournalTable(doc: string, table: string): string {
  const { start, end } = tableBounds(doc);
  return doc.slice(0, start) + table + doc.slice(end);
}

/** The table as the doc has it now, between its markers. */
export function documentedJournalTable(doc: string): string {
  const { start, end } = tableBounds(doc);
  return doc.slice(start, end);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const doc = await readFile(PROTOCOL_DOC, 'utf8');
  await writeFile(PROTOCOL_DOC, withJournalTable(doc, journalTable()));
  console.log('wrote the journal table of docs/protocol.md');
}
