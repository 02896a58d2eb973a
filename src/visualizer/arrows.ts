import type { GraphNode, GraphTransition, MachineGraph } from './graph.ts';

/** One arrow of a diagram: a transition drawn from one state to one of its targets. */
export interface Arrow {
  transition: GraphTransition;
  source: string;
  target: string;
}

/**
 * The arrows a diagram draws, one per transition target, in transition order.
 *
 * A transition of the root (the machine itself) is drawn from every top-level state
 * that is not final: it can fire in any of them, and an arrow out of the box that
 * encloses its own target is one that neither Mermaid nor a reader follows well. A
 * transition into the root is drawn to where entering the root leads.
 */
export function arrowsOf(graph: MachineGraph): Arrow[] {
  const root = graph.nodes.find((n) => n.id === graph.root);
  const topLevel = rootStandIns(graph).map((n) => n.id);
  const sources = (id: string): string[] => (id === graph.root ? topLevel : [id]);
  const targets = (id: string): string[] =>
    id !== graph.root ? [id] : root?.initial ? [root.initial] : topLevel;

  return graph.transitions.flatMap((transition) =>
    sources(transition.source).flatMap((source) =>
      transition.targets.flatMap(targets).map((target) => ({ transition, source, target })),
    ),
  );
}

/** The top-level states a transition of the root is drawn on (see `arrowsOf`). */
export function rootStandIns(graph: MachineGraph): GraphNode[] {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  return (byId.get(graph.root)?.children ?? [])
    .flatMap((id) => byId.get(id) ?? [])
    .filter((n) => n.type !== 'final' && n.type !== 'history');
}
