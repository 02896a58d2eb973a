import type { AnyMachineSnapshot, AnyStateMachine, AnyStateNode } from 'xstate';
import { LIFECYCLE_STATES, type LifecycleState } from '../model/supervisor.ts';

const LIFECYCLE = new Set<string>(LIFECYCLE_STATES);

function lifecycleTags(node: AnyStateNode): string[] {
  return [...node.tags].filter((tag) => LIFECYCLE.has(tag));
}

/**
 * Finds every state of a machine whose active configuration would not carry exactly one
 * lifecycle tag: a leaf with none on its path from the root, a state whose path has two,
 * or a parallel state that leaves its tag to its regions (they could disagree).
 * Returns one readable line per problem; empty means the machine is well tagged.
 */
export function findLifecycleTagProblems(machine: AnyStateMachine): string[] {
  const problems: string[] = [];
  const visit = (node: AnyStateNode, inherited: string | undefined): void => {
    if (node.type === 'history') return;
    const own = lifecycleTags(node);
    if (own.length > 1) {
      problems.push(`state "${node.id}" has ${own.length} lifecycle tags (${own.join(', ')})`);
    }
    if (own.length > 0 && inherited) {
      problems.push(
        `state "${node.id}" has lifecycle tag "${own[0]}" inside a state tagged "${inherited}"`,
      );
    }
    const tag = inherited ?? own[0];
    const children = Object.values(node.states) as AnyStateNode[];
    if (node.type === 'parallel' && !tag) {
      problems.push(
        `parallel state "${node.id}" must carry the lifecycle tag itself: its regions could disagree`,
      );
      return;
    }
    if (children.length === 0 && !tag) {
      problems.push(
        `state "${node.id}" has no lifecycle tag (one of: ${LIFECYCLE_STATES.join(', ')})`,
      );
    }
    for (const child of children) visit(child, tag);
  };
  visit(machine.root, undefined);
  return problems;
}

/**
 * The lifecycle state of a live snapshot: its one lifecycle tag, or `failed` when the
 * actor itself is in error (an action threw, or a child failed with no handler).
 */
export function lifecycleOf(snapshot: AnyMachineSnapshot): LifecycleState {
  if (snapshot.status === 'error') return 'failed';
  for (const tag of snapshot.tags) {
    if (LIFECYCLE.has(tag)) return tag as LifecycleState;
  }
  // Unreachable for a registered machine: registration refuses untagged states.
  return 'working';
}

/** Every tag of a snapshot other than the lifecycle one, sorted. */
export function otherTagsOf(snapshot: AnyMachineSnapshot): string[] {
  return [...snapshot.tags].filter((tag) => !LIFECYCLE.has(tag)).sort();
}

/** Every invoke of the machine whose logic is not registered by name in `setup({ actors })`. */
export function findUnregisteredInvokes(machine: AnyStateMachine): string[] {
  const actors = machine.implementations.actors as Record<string, unknown>;
  const problems: string[] = [];
  const visit = (node: AnyStateNode): void => {
    for (const invoke of node.invoke) {
      if (typeof invoke.src !== 'string' || !(invoke.src in actors)) {
        problems.push(
          `state "${node.id}" invokes inline logic (${String(invoke.src)}): register it by name in setup({ actors }) so it can be persisted`,
        );
      }
    }
    for (const child of Object.values(node.states) as AnyStateNode[]) visit(child);
  };
  visit(machine.root);
  return problems;
}
