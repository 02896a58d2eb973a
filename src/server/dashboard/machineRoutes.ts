import { Hono } from 'hono';
import type { MachineRegistry } from '../../machines/registry.ts';
import { MachineVersionQuery } from '../../protocol/http.ts';
import type { SupervisorHost } from '../../runtime/supervisorHost.ts';
import { placedStateValue } from '../../visualizer/placement.ts';
import type { Principal } from '../auth.ts';
import { parseQuery } from '../httpErrors.ts';
import { createDiagramCache } from './diagramCache.ts';

type Env = { Variables: { principal: Principal } };

/** One entry of `GET /machines`. */
export interface MachineSummary {
  id: string;
  /** The newest registered version: what `POST /supervisors` starts. */
  version: number;
  /** Every registered version, ascending. */
  versions: number[];
  description: string | null;
}

/**
 * `GET /machines` (the registered machines), `GET /machines/:id/diagram.svg` and
 * `GET /machines/:id/graph.json` (a version's statechart, `?version=` or the newest), and
 * `GET /machines/:id/counts` (how many of the caller's supervisors of that machine are in
 * each state value, as drawn: one that failed or was cancelled outside the state its
 * machine tags for that is counted there, see `placedStateValue`). Mounted behind the
 * authentication middleware.
 *
 * @example
 * app.route('/machines', machineRoutes(registry, host));
 */
export function machineRoutes(registry: MachineRegistry, host: SupervisorHost): Hono<Env> {
  const app = new Hono<Env>();
  const diagrams = createDiagramCache(registry);

  const requestedVersion = (query: Record<string, string>): number | undefined =>
    parseQuery(MachineVersionQuery, query).version;

  app.get('/', (c) => {
    const byId = new Map<string, MachineSummary>();
    for (const definition of registry.list()) {
      const summary = byId.get(definition.id) ?? {
        id: definition.id,
        version: definition.version,
        versions: [],
        description: null,
      };
      summary.versions.push(definition.version);
      if (definition.version >= summary.version) {
        summary.version = definition.version;
        summary.description = definition.description ?? null;
      }
      byId.set(definition.id, summary);
    }
    const machines = [...byId.values()]
      .map((m) => ({ ...m, versions: m.versions.sort((a, b) => a - b) }))
      .sort((a, b) => a.id.localeCompare(b.id));
    return c.json({ machines });
  });

  app.get('/:id/diagram.svg', async (c) => {
    const { svg } = await diagrams.get(c.req.param('id'), requestedVersion(c.req.query()));
    c.header('Content-Type', 'image/svg+xml; charset=utf-8');
    c.header('Cache-Control', 'no-cache');
    return c.body(svg);
  });

  app.get('/:id/graph.json', async (c) => {
    const { graph } = await diagrams.get(c.req.param('id'), requestedVersion(c.req.query()));
    c.header('Cache-Control', 'no-cache');
    return c.json(graph);
  });

  // Counted here, page by page, rather than in the browser: rows carry whole snapshots,
  // and the page needs only one number per state value.
  app.get('/:id/counts', async (c) => {
    const machineId = registry.latest(c.req.param('id')).id;
    const principal = c.get('principal');
    const owner = principal.admin ? undefined : (principal.owner ?? '');
    const { graph } = await diagrams.get(machineId);
    const stateValues: Record<string, number> = {};
    let total = 0;
    for (const { state, stateValue, count } of await host.countByStateValue(machineId, owner)) {
      const placed = placedStateValue(graph, state, stateValue);
      stateValues[placed] = (stateValues[placed] ?? 0) + count;
      total += count;
    }
    const timeInState: Record<string, { medianMs: number; stays: number }> = {};
    for (const { stateValue, medianMs, stays } of await host.timeInState(machineId, owner)) {
      timeInState[stateValue] = { medianMs, stays };
    }
    return c.json({ machineId, total, stateValues, timeInState });
  });

  return app;
}
