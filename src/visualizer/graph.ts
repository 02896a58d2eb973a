// A machine as plain data: the one shape every renderer (Mermaid, SVG, JSON) reads.
// Extracted from xstate's resolved state nodes, not from the raw config, so initial
// states, ids, `#id` targets and generated event types are exactly what xstate runs.
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import { LIFECYCLE_STATES, type LifecycleState } from '../model/supervisor.ts';
import {
  actionName,
  guardLabel,
  isTimerAction,
  sourceName,
  spawnedBy,
  type TriggerKind,
  triggerOf,
} from './labels.ts';

/** An actor a state starts: invoked (lives as long as the state) or spawned by an action. */
export interface GraphActor {
  id: string;
  /** The registered logic name, or `inline` for logic written in place. */
  src: string;
}

/** One state node of the machine. */
export interface GraphNode {
  /** xstate's state node id (`reference.active.planning`): unique, and what `#id` targets name. */
  id: string;
  /** The key under its parent (the machine id for the root). */
  key: string;
  /** Keys from the root down; empty for the root. */
  path: string[];
  /** The parent's id; null for the root. */
  parent: string | null;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  /** Only on history nodes. */
  history?: 'shallow' | 'deep';
  /** Only on history nodes that name where to go when there is no history yet. */
  historyTarget?: string[];
  /** The id of the initial child; only on compound nodes. */
  initial?: string;
  /** The node's own lifecycle tag (from `LIFECYCLE_STATES`), when it carries one. */
  lifecycle?: LifecycleState;
  /** The node's other tags, as declared. */
  tags: string[];
  entry: string[];
  exit: string[];
  invokes: GraphActor[];
  /** Children started by `spawnChild` in this node's entry, exit or transitions. */
  spawns: GraphActor[];
  /** Child ids in declaration order. */
  children: string[];
  description?: string;
}

/** One transition; a transition with several targets is one entry with several targets. */
export interface GraphTransition {
  /** `t0`, `t1`, … in graph order: stable for as long as the machine is unchanged. */
  id: string;
  source: string;
  /** Target node ids; empty for a targetless transition (it runs actions, changes no state). */
  targets: string[];
  /** The event type as xstate sees it (`xstate.after.1000.m.a`; empty for `always`). */
  event: string;
  kind: TriggerKind;
  /** What a reader sees: `GO`, `always`, `after 1000ms`, `done: fetch`, `error: fetch`. */
  label: string;
  /** Only on `after` transitions: milliseconds, or the name of a configured delay. */
  delay?: number | string;
  guard?: string;
  actions: string[];
  /** True when the source is exited and entered again even though the target is inside it. */
  reenter: boolean;
}

/** A machine as a graph of state nodes and transitions, both in declaration order. */
export interface MachineGraph {
  /** Bumped when the shape of this JSON changes. */
  format: 1;
  machineId: string;
  /** The id of the root node, the first in `nodes`. */
  root: string;
  nodes: GraphNode[];
  transitions: GraphTransition[];
}

const LIFECYCLE = new Set<string>(LIFECYCLE_STATES);

/**
 * Reads a machine's structure: every state node (depth first, in declaration order) and
 * every transition (each node's event transitions as xstate orders them, then `always`).
 *
 * @example
 * const graph = toGraph(referenceSupervisor);
 * graph.nodes.find((n) => n.key === 'paused')?.lifecycle; // 'paused'
 */
export function toGraph(machine: AnyStateMachine): MachineGraph {
  const nodes: GraphNode[] = [];
  const transitions: GraphTransition[] = [];
  const delays = (machine.implementations.delays ?? {}) as Record<string, unknown>;

  const visit = (node: AnyStateNode): void => {
    const spawns: GraphActor[] = [];
    const names = (actions: readonly unknown[]): string[] => {
      const kept = actions.filter((a) => !isTimerAction(a));
      for (const action of kept) {
        const spawned = spawnedBy(action);
        if (spawned) spawns.push(spawned);
      }
      return kept.map(actionName);
    };
    const graphNode = describeNode(node, names(node.entry), names(node.exit));
    nodes.push(graphNode);

    const declared = [...node.transitions.values()].flat();
    for (const t of [...declared, ...(node.always ?? [])]) {
      // Only the definitions xstate builds for `after` carry a delay.
      const delay = (t as { delay?: number | string }).delay;
      const trigger = triggerOf(t.eventType, node.id, delay, delays);
      const guard = t.guard === undefined ? undefined : guardLabel(t.guard);
      transitions.push({
        id: `t${transitions.length}`,
        source: node.id,
        targets: (t.target ?? []).map((target: AnyStateNode) => target.id),
        event: t.eventType,
        kind: trigger.kind,
        label: trigger.label,
        ...(delay === undefined ? {} : { delay }),
        ...(guard === undefined ? {} : { guard }),
        actions: names(t.actions),
        reenter: t.reenter,
      });
    }
    // Spawns from transitions are known only now; the node object is still ours to fill.
    graphNode.spawns = spawns;
    for (const child of childrenOf(node)) visit(child);
  };
  visit(machine.root);

  return { format: 1, machineId: machine.id, root: machine.root.id, nodes, transitions };
}

function childrenOf(node: AnyStateNode): AnyStateNode[] {
  return Object.values(node.states) as AnyStateNode[];
}

function describeNode(node: AnyStateNode, entry: string[], exit: string[]): GraphNode {
  const lifecycle = node.tags.find((tag) => LIFECYCLE.has(tag)) as LifecycleState | undefined;
  const historyTarget = node.type === 'history' ? resolveHistoryTarget(node) : undefined;
  const initial = node.type === 'compound' ? node.initial.target[0]?.id : undefined;
  return {
    id: node.id,
    key: node.key,
    path: [...node.path],
    parent: node.parent?.id ?? null,
    type: node.type,
    ...(node.type === 'history' ? { history: node.history === 'deep' ? 'deep' : 'shallow' } : {}),
    ...(historyTarget ? { historyTarget } : {}),
    ...(initial ? { initial } : {}),
    ...(lifecycle ? { lifecycle } : {}),
    tags: node.tags.filter((tag) => !LIFECYCLE.has(tag)),
    entry,
    exit,
    invokes: node.invoke.map((i) => ({ id: i.id, src: sourceName(i.src) })),
    spawns: [],
    children: childrenOf(node).map((child) => child.id),
    ...(node.description ? { description: node.description } : {}),
  };
}

/**
 * The default target of a history node, resolved like xstate does: `#id` from the
 * machine, anything else as a path among the history node's siblings.
 */
function resolveHistoryTarget(node: AnyStateNode): string[] | undefined {
  const raw = (node.config as { target?: unknown }).target;
  if (raw === undefined) return undefined;
  const targets = (Array.isArray(raw) ? raw : [raw]).filter((t) => typeof t === 'string');
  const resolved = targets.flatMap((target: string) => {
    const found = target.startsWith('#')
      ? findById(node, target.slice(1))
      : findByPath(node.parent, target.split('.'));
    return found ? [found.id] : [];
  });
  return resolved.length > 0 ? resolved : undefined;
}

function findById(node: AnyStateNode, id: string): AnyStateNode | undefined {
  try {
    return node.machine.getStateNodeById(id);
  } catch {
    return undefined;
  }
}

function findByPath(from: AnyStateNode | undefined, keys: string[]): AnyStateNode | undefined {
  let node = from;
  for (const key of keys) node = node?.states[key] as AnyStateNode | undefined;
  return node;
}

/**
 * The graph as JSON text: two-space indented, keys in a fixed order, nodes and
 * transitions in declaration order, so the same machine always gives the same bytes.
 *
 * @example
 * await writeFile('reference.json', toJson(toGraph(referenceSupervisor)));
 */
export function toJson(graph: MachineGraph): string {
  return `${JSON.stringify(graph, null, 2)}\n`;
}

/** A state as every diagram titles it: its key, or `H` / `H*` for a history state. */
export function stateTitle(node: GraphNode): string {
  if (node.type !== 'history') return node.key;
  return node.history === 'deep' ? 'H*' : 'H';
}

/** A transition as every diagram labels it: `event [guard]`. */
export function transitionText(transition: GraphTransition): string {
  return transition.guard ? `${transition.label} [${transition.guard}]` : transition.label;
}
