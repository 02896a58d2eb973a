// Writes the table of error codes in docs/protocol.md from the registry,
// src/protocol/errorCodes.ts (`npm run docs:errors`). test/docs.test.ts fails when the
// table differs from what this writes, so the docs cannot drift from the code.
import { readFile, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { type AnyErrorCode, ERROR_REGISTRY } from '../src/protocol/errorCodes.ts';

export const PROTOCOL_DOC = new URL('../docs/protocol.md', import.meta.url);

const BEGIN = '<!-- error-codes: written by npm run docs:errors -->\n';
const END = '<!-- /error-codes -->\n';

/** The markdown table of every code of the registry, in registry order. */
export function errorTable(): string {
  const rows = (Object.keys(ERROR_REGISTRY) as AnyErrorCode[]).map((code) => {
    const spec = ERROR_REGISTRY[code];
    const cells = [
      `\`${code}\``,
      spec.source,
      spec.httpStatus === null ? '—' : String(spec.httpStatus),
      spec.retryable ? 'yes' : 'no',
      spec.when,
      spec.whatToDo,
    ];
    return `| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |\n`;
  });
  return [
    '| code | raised by | HTTP | client retries | when | what to do |\n',
    '| --- | --- | --- | --- | --- | --- |\n',
    ...rows,
  ].join('');
}

/** Where the table is in the doc: just after its opening marker, up to its closing one. */
function tableBounds(doc: string): { start: number; end: number } {
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END, begin);
  if (begin < 0 || end < 0) throw new Error(`docs/protocol.md has no ${BEGIN.trim()} block`);
  return { start: begin + BEGIN.length, end };
}

/** The doc with the table between its markers replaced by `table`. */
export function withErrorTable(doc: string, table: string): string {
  const { start, end } = tableBounds(doc);
  return doc.slice(0, start) + table + doc.slice(end);
}

/** The table as the doc has it now, between its markers. */
export function documentedErrorTable(doc: string): string {
  const { start, end } = tableBounds(doc);
  return doc.slice(start, end);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const doc = await readFile(PROTOCOL_DOC, 'utf8');
  await writeFile(PROTOCOL_DOC, withErrorTable(doc, errorTable()));
  console.log('wrote the error table of docs/protocol.md');
}
