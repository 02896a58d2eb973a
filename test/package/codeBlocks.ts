import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A fenced TypeScript block of a document, and where it starts (`file:line`). */
export interface CodeBlock {
  where: string;
  code: string;
}

const FENCE = /^```(ts|typescript)\n([\s\S]*?)^```$/gm;
const IMPORTS_STEWARD = /from '(steward|steward\/client)'/;

/** Every ```ts block of the documents that imports the package: each is type-checked. */
export async function codeBlocksImporting(files: string[], root: string): Promise<CodeBlock[]> {
  const blocks: CodeBlock[] = [];
  for (const file of files) {
    const text = await readFile(join(root, file), 'utf8');
    for (const match of text.matchAll(FENCE)) {
      const code = match[2] as string;
      if (!IMPORTS_STEWARD.test(code)) continue;
      const line = text.slice(0, match.index).split('\n').length;
      blocks.push({ where: `${file}:${line}`, code });
    }
  }
  return blocks;
}
