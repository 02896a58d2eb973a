// Regenerates the committed diagrams with the visualizer itself: docs/diagrams/*.svg and
// *.mmd, and the Mermaid block in docs/visualizer.md. test/visualizer/diagrams.test.ts
// fails when they differ from what the tool draws now, so they cannot go stale.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AnyStateMachine } from 'xstate';
import { referenceSupervisor } from '../src/machines/referenceSupervisor.ts';
import { toGraph, toMermaid, toSvg } from '../src/visualizer/index.ts';

const DIAGRAMS: ReadonlyArray<{ name: string; machine: AnyStateMachine }> = [
  { name: 'reference-supervisor', machine: referenceSupervisor },
];

const DOC = new URL('../docs/visualizer.md', import.meta.url);

/** Every generated file, by absolute path, with the content it must have. */
export async function diagramFiles(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  let doc = await readFile(DOC, 'utf8');
  for (const { name, machine } of DIAGRAMS) {
    const graph = toGraph(machine);
    const mermaid = toMermaid(graph);
    const base = new URL(`../docs/diagrams/${name}`, import.meta.url);
    files.set(fileURLToPath(`${base.href}.svg`), await toSvg(graph));
    files.set(fileURLToPath(`${base.href}.mmd`), mermaid);
    doc = withMermaidBlock(doc, name, mermaid);
  }
  files.set(fileURLToPath(DOC), doc);
  return files;
}

/** The doc with the ```mermaid block after `<!-- diagram: name -->` replaced. */
function withMermaidBlock(doc: string, name: string, mermaid: string): string {
  const marker = `<!-- diagram: ${name} -->\n\`\`\`mermaid\n`;
  const start = doc.indexOf(marker);
  const end = doc.indexOf('```', start + marker.length);
  if (start < 0 || end < 0) throw new Error(`docs/visualizer.md has no block for ${name}`);
  return doc.slice(0, start + marker.length) + mermaid + doc.slice(end);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const [path, content] of await diagramFiles()) {
    await writeFile(path, content);
    console.log(`wrote ${path}`);
  }
}
