import type { Readiness } from '../protocol/httpResponses.ts';
import type { CommitHealth } from '../runtime/supervisorHost.ts';
import type { RuntimeAvailability } from './availability.ts';

/** A commit with no reply for this long means commits are not going through. */
export const COMMIT_STALL_MS = 5_000;

// The body of `/readyz` is declared with the other response bodies, where the OpenAPI
// document reads it; `ready` decides 200 or 503.
export type { Readiness } from '../protocol/httpResponses.ts';

/**
 * Whether this runtime should get work: it has its database, and commits go through (the
 * last attempt did not fail, and none has waited for its reply past `COMMIT_STALL_MS`).
 */
export function readinessOf(
  health: CommitHealth,
  availability: RuntimeAvailability,
  stopping: boolean,
  now: number = Date.now(),
): Readiness {
  const stalled =
    health.oldestInFlightSince !== undefined && now - health.oldestInFlightSince > COMMIT_STALL_MS;
  const failing = health.failingSince !== undefined || stalled;
  const unavailable = availability.database === 'unavailable' || health.suspended;
  const status = stopping
    ? 'stopping'
    : unavailable
      ? 'database unavailable'
      : failing
        ? 'commits failing'
        : 'ready';
  return {
    ready: status === 'ready',
    status,
    database: unavailable ? 'unavailable' : 'available',
    since: availability.since,
    ...(availability.reason === undefined ? {} : { reason: availability.reason }),
    lastCommitAgeMs: health.lastCommitAt === undefined ? null : now - health.lastCommitAt,
    failingForMs:
      health.failingSince !== undefined
        ? now - health.failingSince
        : stalled
          ? now - (health.oldestInFlightSince as number)
          : null,
    pendingWrites: health.pending,
  };
}
