// Positions for the SVG, computed by ELK's layered algorithm over the whole hierarchy at
// once (INCLUDE_CHILDREN), so an arrow may leave a nested state for any other state.
// Sizes come from estimated text widths; ELK returns every coordinate relative to the
// drawing (ROOT), which spares adding up parent offsets.

import type { ElkExtendedEdge, ElkNode } from 'elkjs';
import elkjs from 'elkjs';
import { arrowsOf } from './arrows.ts';
import {
  type GraphNode,
  type GraphTransition,
  type MachineGraph,
  stateTitle,
  transitionText,
} from './graph.ts';
import { textWidth } from './text.ts';

// elkjs is CommonJS whose typings declare an ES default; the constructor also sits on `.default`.
const ELK = elkjs.default;

/** Font sizes and spacing shared by the layout and the drawing. */
export const METRICS = Object.freeze({
  titleSize: 13,
  smallSize: 11,
  lineGap: 4,
  padX: 10,
  padY: 7,
  labelSize: 11,
  historyRadius: 14,
  initialRadius: 6,
});

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

/** A state's text: its name, a caption (lifecycle and other tags), then detail lines. */
export interface StateText {
  title: string;
  caption?: string;
  details: string[];
}

export interface PlacedState {
  node: GraphNode;
  box: Box;
  text: StateText;
  /** A child of a parallel state: drawn dashed. */
  region: boolean;
}

export interface PlacedEdge {
  /** The transition drawn; absent for an initial marker's or a history default's arrow. */
  transition?: GraphTransition;
  /** The state the arrow points at (one arrow per target of a transition). */
  target?: string;
  points: Point[];
  label?: { text: string; box: Box };
}

export interface Layout {
  width: number;
  height: number;
  /** In graph order: a parent before its children, so children are drawn on top. */
  states: PlacedState[];
  /** The filled dots that point at initial states. */
  initials: Point[];
  edges: PlacedEdge[];
}

const ROOT_OPTIONS = {
  'elk.algorithm': 'layered',
  'elk.direction': 'DOWN',
  'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
  'elk.json.shapeCoords': 'ROOT',
  'elk.json.edgeCoords': 'ROOT',
  'elk.edgeRouting': 'ORTHOGONAL',
  // Where ELK has a free choice, keep the order the machine declares: the picture then
  // reads like the source, and small edits to the machine move little in the diagram.
  'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
  'elk.layered.spacing.nodeNodeBetweenLayers': '36',
  'elk.layered.spacing.edgeNodeBetweenLayers': '16',
  'elk.spacing.nodeNode': '28',
  'elk.spacing.edgeEdge': '12',
  'elk.spacing.edgeLabel': '4',
  'elk.padding': '[top=12,left=12,bottom=12,right=12]',
};

const LABEL_OPTIONS = { 'org.eclipse.elk.edgeLabels.placement': 'TAIL' };

/**
 * Lays the graph out: one ELK node per state (compound states hold their children and
 * leave room at the top for their own text), one edge per transition target, and an
 * initial dot in every compound state.
 */
export async function layoutGraph(graph: MachineGraph): Promise<Layout> {
  const byId = new Map(graph.nodes.map((n, i) => [n.id, { node: n, elkId: `n${i}` }]));
  const elkId = (id: string): string => byId.get(id)?.elkId ?? 'missing';
  const texts = new Map(graph.nodes.map((n) => [n.id, stateText(n, graph)]));
  const elkNodes = new Map<string, ElkNode>();
  const initials: string[] = [];

  for (const node of graph.nodes) {
    const text = texts.get(node.id) as StateText;
    const elkNode: ElkNode = { id: elkId(node.id), children: [], edges: [] };
    if (node.children.length === 0) {
      Object.assign(elkNode, leafSize(node, text));
    } else {
      const { width, height } = textSize(text);
      elkNode.layoutOptions = {
        'elk.padding': `[top=${height + 14},left=14,bottom=14,right=14]`,
        'elk.nodeSize.constraints': 'MINIMUM_SIZE',
        'elk.nodeSize.minimum': `(${width}, ${height + 28})`,
      };
    }
    elkNodes.set(node.id, elkNode);
    const parent = node.parent === null ? undefined : elkNodes.get(node.parent);
    parent?.children?.push(elkNode);
    if (node.initial) {
      const dot = `i${initials.length}`;
      const size = METRICS.initialRadius * 2;
      elkNode.children?.push({ id: dot, width: size, height: size });
      initials.push(dot);
      elkNode.edges?.push({ id: `${dot}e`, sources: [dot], targets: [elkId(node.initial)] });
    }
  }

  const drawn = new Map<string, { transition?: GraphTransition; target: string }>();
  const parentOf = new Map(graph.nodes.map((n) => [n.id, n.parent]));
  const addEdge = (source: string, target: string, transition?: GraphTransition): void => {
    const id = `e${drawn.size}`;
    const edge: ElkExtendedEdge = { id, sources: [elkId(source)], targets: [elkId(target)] };
    if (transition) {
      const text = transitionText(transition);
      const width = textWidth(text, METRICS.labelSize) + 6;
      // At the tail: each label starts where its own arrow leaves its state. Centred labels
      // of long edges met in one layer above the targets, a row nobody could match to its
      // lines. The option is the label's own, under its full id: ELK reads it nowhere else.
      edge.labels = [{ text, width, height: METRICS.labelSize + 4, layoutOptions: LABEL_OPTIONS }];
    }
    elkNodes.get(container(parentOf, source, target) ?? graph.root)?.edges?.push(edge);
    drawn.set(id, { ...(transition ? { transition } : {}), target });
  };
  for (const arrow of arrowsOf(graph)) addEdge(arrow.source, arrow.target, arrow.transition);
  for (const n of graph.nodes) for (const target of n.historyTarget ?? []) addEdge(n.id, target);

  const rootNode = elkNodes.get(graph.root) as ElkNode;
  const drawing: ElkNode = { id: 'graph', layoutOptions: ROOT_OPTIONS, children: [rootNode] };
  const laidOut: ElkNode = await new ELK().layout(drawing);

  const placed = new Map<string, ElkNode>();
  const edges: ElkExtendedEdge[] = [];
  const collect = (n: ElkNode): void => {
    placed.set(n.id, n);
    edges.push(...(n.edges ?? []));
    for (const child of n.children ?? []) collect(child);
  };
  collect(laidOut);

  return {
    width: Math.ceil(laidOut.width ?? 0),
    height: Math.ceil(laidOut.height ?? 0),
    states: graph.nodes.map((node) => ({
      node,
      box: boxOf(placed.get(elkId(node.id))),
      text: texts.get(node.id) as StateText,
      region: node.parent !== null && byId.get(node.parent)?.node.type === 'parallel',
    })),
    initials: initials.map((dot) => {
      const box = boxOf(placed.get(dot));
      return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    }),
    edges: edges
      .sort((a, b) => edgeOrder(a.id) - edgeOrder(b.id))
      .map((edge) => placeEdge(edge, drawn.get(edge.id))),
  };
}

// Initial-marker edges (`i0e`) first, then transitions in graph order (`e0`, `e1`, …).
function edgeOrder(id: string): number {
  return id.startsWith('e') ? 1e6 + Number(id.slice(1)) : Number.parseInt(id.slice(1), 10);
}

function placeEdge(
  edge: ElkExtendedEdge,
  what: { transition?: GraphTransition; target: string } | undefined,
): PlacedEdge {
  const points: Point[] = [];
  for (const section of edge.sections ?? []) {
    for (const p of [section.startPoint, ...(section.bendPoints ?? []), section.endPoint]) {
      const last = points[points.length - 1];
      if (!last || last.x !== p.x || last.y !== p.y) points.push({ x: p.x, y: p.y });
    }
  }
  const label = edge.labels?.[0];
  return {
    ...what,
    points,
    ...(label?.text ? { label: { text: label.text, box: boxOf(label) } } : {}),
  };
}

function boxOf(shape: { x?: number; y?: number; width?: number; height?: number } | undefined) {
  return {
    x: shape?.x ?? 0,
    y: shape?.y ?? 0,
    width: shape?.width ?? 0,
    height: shape?.height ?? 0,
  };
}

/**
 * The ELK node an edge belongs in, as ELK itself would choose: the parent for a self
 * loop, the source when it encloses the target (and the other way round), else the
 * nearest state enclosing both.
 */
function container(
  parentOf: ReadonlyMap<string, string | null>,
  source: string,
  target: string,
): string | undefined {
  const ancestors = (id: string): string[] => {
    const chain: string[] = [];
    for (let at: string | null | undefined = id; at; at = parentOf.get(at)) chain.push(at);
    return chain;
  };
  if (source === target) return parentOf.get(source) ?? source;
  const fromSource = ancestors(source);
  const fromTarget = new Set(ancestors(target));
  if (fromTarget.has(source)) return source;
  if (fromSource.includes(target)) return target;
  return fromSource.find((id) => fromTarget.has(id));
}

/** What a state box says: the key, its tags, what it starts, and what it handles in place. */
function stateText(node: GraphNode, graph: MachineGraph): StateText {
  const tags = [...(node.lifecycle ? [node.lifecycle] : []), ...node.tags];
  const details = [
    ...node.invokes.map((a) => `invoke ${a.id} (${a.src})`),
    ...node.spawns.map((a) => `spawn ${a.id} (${a.src})`),
    ...graph.transitions
      .filter((t) => t.source === node.id && t.targets.length === 0)
      .map((t) => `${transitionText(t)} (stays)`),
  ];
  const title = stateTitle(node);
  return { title, ...(tags.length > 0 ? { caption: tags.join(' · ') } : {}), details };
}

function textSize(text: StateText): { width: number; height: number } {
  const { titleSize, smallSize, lineGap, padX, padY } = METRICS;
  const smallLines = [...(text.caption ? [text.caption] : []), ...text.details];
  const width = Math.max(
    textWidth(text.title, titleSize) + 2,
    ...smallLines.map((line) => textWidth(line, smallSize)),
  );
  const height = titleSize + smallLines.length * (smallSize + lineGap);
  return { width: width + 2 * padX, height: height + 2 * padY };
}

function leafSize(node: GraphNode, text: StateText): { width: number; height: number } {
  if (node.type === 'history') {
    const size = METRICS.historyRadius * 2;
    return { width: size, height: size };
  }
  const { width, height } = textSize(text);
  // A final state's second border sits inside the first.
  const inset = node.type === 'final' ? 8 : 0;
  return { width: Math.max(width + inset, 72), height: height + inset };
}
