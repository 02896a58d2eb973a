// Where a supervisor is drawn on its machine's statechart. Mostly its stored state value;
// but a supervisor can end (failed, cancelled) without its machine entering the state that
// says so: an action threw, an invoked actor rejected with no onError, a retry gave up. It
// then still holds the value it had (`planning`), and drawing it there says it is
// planning. When the machine has a state tagged with the lifecycle the supervisor ended in,
// it is drawn there: that is where it really is. The dashboard's diagram.js places it by
// the same rule.
import type { LifecycleState } from '../model/supervisor.ts';
import type { MachineGraph } from './graph.ts';

const ENDED: ReadonlySet<LifecycleState> = new Set(['failed', 'cancelled', 'completed']);

/**
 * The state value to draw a supervisor at: `stateValue` (as stored: dotted paths joined by
 * `;`), unless the supervisor ended in `lifecycle` while none of its active states carries
 * that lifecycle tag and one state of the machine does: then that state's path.
 *
 * @example
 * placedStateValue(toGraph(referenceSupervisor), 'failed', 'active.planning'); // 'failed'
 */
export function placedStateValue(
  graph: MachineGraph,
  lifecycle: LifecycleState,
  stateValue: string,
): string {
  if (!ENDED.has(lifecycle)) return stateValue;
  const byPath = new Map(graph.nodes.map((node) => [node.path.join('.'), node]));
  const active = stateValue
    .split(';')
    .filter(Boolean)
    .flatMap((path) => {
      const keys = path.split('.');
      return keys.map((_, i) => byPath.get(keys.slice(0, i + 1).join('.')));
    });
  if (active.some((node) => node?.lifecycle === lifecycle)) return stateValue;
  const tagged = graph.nodes.find((node) => node.lifecycle === lifecycle && node.path.length > 0);
  return tagged ? tagged.path.join('.') : stateValue;
}
