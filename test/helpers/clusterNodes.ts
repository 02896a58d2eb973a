// `steward serve --cluster` processes for the several-nodes tests: a short lease TTL so that
// a failover takes seconds, eager restore so that a taken slice is in memory at once.
import { type FaultRuntime, startFaultRuntime } from './faultRuntime.ts';

/**
 * The lease TTL the several-nodes tests run with: short for a quick failover, long enough
 * that a node of a loaded CI machine does not lose its leases to a slow turn.
 */
export const TTL_MS = 3_000;

/** A node of the cluster on `databaseUrl`, logging at info (its takes and give-backs). */
export function clusterNode(databaseUrl: string): Promise<FaultRuntime> {
  return startFaultRuntime({
    databaseUrl,
    args: ['--cluster', '--lease-ttl', String(TTL_MS), '--restore', 'eager'],
    env: { LOG_LEVEL: 'info' },
  });
}

/** An answer over HTTP, as alice. */
export function answer(runtime: FaultRuntime, id: string, questionId: string, value: number) {
  return runtime.api(`/supervisors/${id}/questions/${questionId}/answer`, { value });
}

/** The slices a node holds now, from its `/healthz` (0 when it says nothing of a node). */
export async function slicesHeld(runtime: FaultRuntime): Promise<number> {
  const health = await runtime.api('/healthz');
  return (health.body.node as { slicesHeld: number } | undefined)?.slicesHeld ?? 0;
}
