/** How long to wait between reconnection attempts (and between retries of a refused request). */
export interface BackoffPolicy {
  /** The first wait. */
  initialMs: number;
  /** The longest wait, however many attempts failed. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 10_000 };

/**
 * The wait before attempt `attempt` (0 for the first retry): doubling up to `maxMs`, with
 * "equal jitter" — a random half of the step on top of a fixed half — so that clients
 * dropped together by a restarting server do not all come back in the same instant, yet
 * none retries sooner than half the step.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy): number {
  const step = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(step / 2 + (Math.random() * step) / 2);
}
