// A retry puts a failed or cancelled supervisor back to work (Step Functions' redrive,
// Temporal's reset): not from its stored snapshot, which is finished, but from the newest
// checkpoint that validates and is still running, or afresh from its stored input.
import { type Idempotency, idempotencyFields, type Requester } from '../../model/requester.ts';
import type { SupervisorState } from '../../model/supervisor.ts';
import { liveFrom, type Rebuilt, type RestoreDeps, rearm } from './restoration.ts';
import { newestValidCheckpoint, type Plan } from './restorePlan.ts';

/** What a retry starts from: a checkpoint or a fresh start, never the finished snapshot. */
export type RetryPlan = Exclude<Plan, { from: 'stored' }>;

/** Why and by whom a supervisor is retried, journaled with the snapshot it restarts from. */
export interface RetryRequest {
  reason?: string | undefined;
  by?: Requester | null | undefined;
  /** Journaled in the `retried` entry, for a repeat of the request to find. */
  idempotency?: Idempotency | undefined;
}

/** True when a persisted snapshot can still take events: a checkpoint worth going back to. */
function stillRunning(snapshot: unknown): boolean {
  return (snapshot as { status?: unknown } | null)?.status === 'active';
}

/**
 * The newest checkpoint that validates (upgraded to the newest machine version) and was
 * not itself taken in a final state, walking back; with none, a fresh start.
 */
export async function retryPlan(
  deps: Pick<RestoreDeps, 'registry' | 'store'>,
  stored: SupervisorState,
): Promise<RetryPlan> {
  const checkpoint = await newestValidCheckpoint(deps, stored, (u) => stillRunning(u.snapshot));
  if (checkpoint) return { ...checkpoint, violations: [] };
  return { from: 'fresh', definition: deps.registry.latest(stored.machineId), violations: [] };
}

/**
 * Rebuilds a finished supervisor as a retry: from its retry plan, its timers re-armed,
 * the `retried` entry queued for the first write (the one that puts it back to work), and
 * counted as a `manual` restore.
 */
export async function rebuildForRetry(
  deps: RestoreDeps,
  stored: SupervisorState,
  request: RetryRequest,
): Promise<Rebuilt> {
  const chosen = await retryPlan(deps, stored);
  const live = liveFrom(deps, stored, chosen);
  const checkpointVersion = chosen.from === 'checkpoint' ? chosen.checkpoint.version : null;
  live.record({
    kind: 'retried',
    payload: {
      reason: request.reason ?? null,
      from: chosen.from,
      checkpointVersion,
      previousState: stored.state,
      by: request.by ?? null,
      ...idempotencyFields(request.idempotency),
    },
  });
  const now = rearm(deps, live, chosen);
  return { stored, chosen, live, source: 'manual', now, retried: true };
}
