import type { MachineRegistry } from '../../machines/registry.ts';
import { type MachineGraph, toGraph } from '../../visualizer/graph.ts';
import { toSvg } from '../../visualizer/svg.ts';

/** A machine version's statechart, as the dashboard draws it. */
export interface Diagram {
  graph: MachineGraph;
  svg: string;
}

/** Statecharts of registered machines, drawn once per machine version. */
export interface DiagramCache {
  /**
   * The diagram of a machine version (the newest when `version` is omitted); throws
   * `ERR_MACHINE_NOT_REGISTERED` for an unknown machine or version.
   */
  get(machineId: string, version?: number): Promise<Diagram>;
}

/**
 * Caches diagrams by machine id and version: a registered version never changes, and ELK's
 * layout takes tens of milliseconds, too slow to repeat for every page view. The promise is
 * cached, so requests that arrive while a layout runs share it; a failed layout is not kept.
 *
 * @example
 * const diagrams = createDiagramCache(registry);
 * const { svg } = await diagrams.get('reference');
 */
export function createDiagramCache(registry: MachineRegistry): DiagramCache {
  const drawn = new Map<string, Promise<Diagram>>();
  return {
    get(machineId, version) {
      const definition =
        version === undefined ? registry.latest(machineId) : registry.get(machineId, version);
      const key = `${definition.id}@${definition.version}`;
      let diagram = drawn.get(key);
      if (!diagram) {
        const graph = toGraph(definition.machine);
        diagram = toSvg(graph).then((svg) => ({ graph, svg }));
        diagram.catch(() => drawn.delete(key));
        drawn.set(key, diagram);
      }
      return diagram;
    },
  };
}
