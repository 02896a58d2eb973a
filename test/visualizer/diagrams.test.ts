import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { expect, it } from 'vitest';
import { diagramFiles } from '../../scripts/diagrams.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

it('keeps the committed diagrams and docs/visualizer.md equal to what the tool draws now', async () => {
  const files = await diagramFiles();
  expect([...files.keys()].map((path) => relative(ROOT, path))).toEqual([
    'docs/diagrams/reference-supervisor.svg',
    'docs/diagrams/reference-supervisor.mmd',
    'docs/visualizer.md',
  ]);
  for (const [path, expected] of files) {
    const committed = await readFile(path, 'utf8');
    expect(committed, `${relative(ROOT, path)} is stale: run npm run diagrams`).toBe(expected);
  }
  const doc = files.get(`${ROOT}docs/visualizer.md`) ?? '';
  const mmd = files.get(`${ROOT}docs/diagrams/reference-supervisor.mmd`) ?? 'missing';
  expect(doc).toContain(`\`\`\`mermaid\n${mmd}\`\`\``);
});
