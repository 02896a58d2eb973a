// Mermaid `stateDiagram-v2` text. Mermaid places a state inside the composite where it
// is first mentioned, so the text declares the whole hierarchy first and draws every
// transition after it, at the top level; drawn inside a block, an arrow to a state
// outside it would pull that state in.
import { LIFECYCLE_STATES } from '../model/supervisor.ts';
import { arrowsOf, rootStandIns } from './arrows.ts';
import {
  type GraphNode,
  type GraphTransition,
  type MachineGraph,
  stateTitle,
  transitionText,
} from './graph.ts';
import { LIFECYCLE_COLOURS } from './lifecycleColours.ts';

// Words Mermaid's state grammar reads as keywords; a state id spelled like one is renamed.
const RESERVED = new Set(
  ['state', 'note', 'end', 'as', 'direction', 'class', 'classdef', 'style', 'click']
    .concat(['left', 'right', 'of', 'hide', 'accTitle', 'accDescr', 'tb', 'bt', 'lr', 'rl'])
    .map((w) => w.toLowerCase()),
);

/**
 * The graph as a Mermaid state diagram that GitHub renders in a ```mermaid block:
 * composites for compound states, `--` between parallel regions, `H` / `H*` for history
 * states, `[*]` for initial and final states, edges labelled `event [guard]`, and one
 * `classDef` per lifecycle tag in use.
 *
 * Mermaid has no box around the whole machine and cannot draw an arrow from a composite
 * into itself, so the root's transitions are drawn from every top-level state that is not
 * final. A transition without a target is written inside its state (or in a note beside
 * a composite) rather than as an arrow: it changes no state.
 *
 * @example
 * const text = toMermaid(toGraph(referenceSupervisor));
 */
export function toMermaid(graph: MachineGraph): string {
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  const root = nodes.get(graph.root);
  if (!root) throw new Error(`graph of ${graph.machineId} has no root node ${graph.root}`);
  const ids = mermaidIds(graph.nodes.filter((n) => n !== root));
  const idOf = (id: string): string => {
    const found = ids.get(id);
    if (found === undefined) throw new Error(`graph of ${graph.machineId} has no state ${id}`);
    return found;
  };
  const childrenOf = (node: GraphNode): GraphNode[] =>
    node.children.flatMap((id) => nodes.get(id) ?? []);

  const lines = ['stateDiagram-v2'];
  const declare = (node: GraphNode, depth: number): void => {
    const pad = '  '.repeat(depth);
    const label = stateTitle(node);
    const head = `${pad}state "${escapeLabel(label)}" as ${idOf(node.id)}`;
    if (node.children.length === 0) {
      lines.push(head);
      return;
    }
    lines.push(`${head} {`);
    declareChildren(node, depth + 1);
    lines.push(`${pad}}`);
  };
  const declareChildren = (node: GraphNode, depth: number): void => {
    const pad = '  '.repeat(depth);
    childrenOf(node).forEach((child, i) => {
      if (node.type === 'parallel' && i > 0) lines.push(`${pad}--`);
      declare(child, depth);
    });
    if (node.initial) lines.push(`${pad}[*] --> ${idOf(node.initial)}`);
    for (const child of childrenOf(node)) {
      if (child.type === 'final') lines.push(`${pad}${idOf(child.id)} --> [*]`);
    }
  };
  declareChildren(root, 1);

  for (const { transition, source, target } of arrowsOf(graph)) {
    lines.push(`  ${idOf(source)} --> ${idOf(target)}: ${edgeLabel(transition)}`);
  }
  for (const node of graph.nodes) {
    for (const target of node.historyTarget ?? []) {
      lines.push(`  ${idOf(node.id)} --> ${idOf(target)}`);
    }
  }
  for (const [node, texts] of targetlessByNode(graph, nodes, root)) {
    // Mermaid refuses description lines on a composite; a note beside it says the same.
    if (node.children.length > 0) {
      lines.push(`  note right of ${idOf(node.id)}`);
      for (const text of texts) lines.push(`    ${escapeLabel(text)}`);
      lines.push('  end note');
    } else {
      for (const text of texts) lines.push(`  ${idOf(node.id)} : ${escapeLabel(text)}`);
    }
  }

  for (const lifecycle of LIFECYCLE_STATES) {
    const members = graph.nodes.filter((n) => n !== root && n.lifecycle === lifecycle);
    if (members.length === 0) continue;
    const { fill, stroke } = LIFECYCLE_COLOURS[lifecycle];
    lines.push(`  classDef ${lifecycle} fill:${fill},stroke:${stroke},color:#111827`);
    lines.push(`  class ${members.map((n) => idOf(n.id)).join(',')} ${lifecycle}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Targetless transitions per state that shows them; the root's go on its stand-ins. */
function targetlessByNode(
  graph: MachineGraph,
  nodes: ReadonlyMap<string, GraphNode>,
  root: GraphNode,
): Map<GraphNode, string[]> {
  const standIns = rootStandIns(graph);
  const shown = new Map<GraphNode, string[]>();
  for (const t of graph.transitions) {
    if (t.targets.length > 0) continue;
    const on = t.source === root.id ? standIns : [nodes.get(t.source) ?? root];
    for (const node of on) shown.set(node, [...(shown.get(node) ?? []), transitionText(t)]);
  }
  return shown;
}

function edgeLabel(transition: GraphTransition): string {
  return escapeLabel(transitionText(transition));
}

/**
 * Mermaid ids for state nodes: the path joined with `_`, anything but letters, digits and
 * `_` replaced, a keyword or leading digit prefixed, and a counter on a collision, so any
 * state key gives a valid id and the same machine always the same ids.
 */
function mermaidIds(nodes: GraphNode[]): Map<string, string> {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const node of nodes) {
    let base = node.path.join('_').replace(/[^A-Za-z0-9_]/g, '_') || 'state';
    if (RESERVED.has(base.toLowerCase()) || /^[0-9]/.test(base)) base = `s_${base}`;
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
    used.add(id);
    ids.set(node.id, id);
  }
  return ids;
}

// Mermaid reads `;` as a statement end, `:` as the start of a label, `"` as the end of a
// quoted name and `#` as the start of an entity; `#code;` entities stand for all of them.
const ENTITIES: Readonly<Record<string, string>> = {
  '#': '#35;',
  '"': '#quot;',
  ';': '#59;',
  ':': '#58;',
  '<': '#lt;',
  '>': '#gt;',
  '%': '#37;',
};

function escapeLabel(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/[#";:<>%]/g, (c) => ENTITIES[c] ?? c);
}
