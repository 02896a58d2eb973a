import { extname } from 'node:path';
import type { AnyStateMachine } from 'xstate';
import { toGraph, toJson } from './graph.ts';
import { toHtml } from './html.ts';
import { toMermaid } from './mermaid.ts';
import { toSvg } from './svg.ts';

/** The output formats of `steward visualize`. */
export const FORMATS = ['mermaid', 'svg', 'json', 'html'] as const;
export type Format = (typeof FORMATS)[number];

/**
 * A machine rendered in one format: machine → graph → text.
 *
 * @example
 * const svg = await renderMachine(referenceSupervisor, 'svg');
 */
export async function renderMachine(machine: AnyStateMachine, format: Format): Promise<string> {
  const graph = toGraph(machine);
  switch (format) {
    case 'mermaid':
      return toMermaid(graph);
    case 'svg':
      return toSvg(graph);
    case 'json':
      return toJson(graph);
    case 'html':
      return toHtml(graph);
  }
}

const BY_EXTENSION: Readonly<Record<string, Format>> = {
  '.mmd': 'mermaid',
  '.mermaid': 'mermaid',
  '.svg': 'svg',
  '.json': 'json',
  '.html': 'html',
  '.htm': 'html',
};

/** The format an output file's extension asks for, if it names one. */
export function formatOfPath(path: string): Format | undefined {
  return BY_EXTENSION[extname(path).toLowerCase()];
}
