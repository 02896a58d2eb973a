// What the lease keeper (leaseKeeper.ts) is given and tells: its options, its counters,
// and the hooks through which the host learns of slices taken, given back and lost.
import type { Logger } from '../../logger.ts';
import type { SliceLease } from '../../model/slices.ts';
import type { SliceLeaseStore } from '../../persistence/sliceLeases.ts';

/** A slice this node has just taken, and what its supervisors' restoration needs to know. */
export interface TakenLease extends SliceLease {
  /** The node that held it before, or `null` for a slice that was free. */
  previousNode: string | null;
  /** True when its previous lease expired: restore its supervisors as a failover. */
  wasExpired: boolean;
}

/**
 * Why slices are no longer held: `deadline`, no renewal was confirmed in time (the
 * database unreachable or slow, or this process paused); `refused`, the database did not
 * renew them (the lease expired, or another node took the slice); `presence`, the node's
 * session ended (`suspend`), so other nodes may take them at once.
 */
export type LeaseLossReason = 'deadline' | 'refused' | 'presence';

/** What the host does when the slices it holds change: the one seam of the keeper. */
export interface LeaseHooks {
  /**
   * These slices are now held: restore their supervisors. Not awaited, so that renewals
   * go on while a large slice restores; an error thrown is logged.
   */
  taken(leases: readonly TakenLease[]): void;
  /**
   * These slices are given back: stop accepting calls for their supervisors, flush their
   * writes and drop them. They stay held (and renewed) until this resolves, then they are
   * released. A rejection keeps them held, to be given back later (except at `stop()`).
   */
  yielding(slices: readonly number[]): Promise<void>;
  /**
   * These slices are not held any more: stop acting for their supervisors at once and drop
   * them without writing (a write would be refused by the fence anyway).
   */
  lost(slices: readonly number[], reason: LeaseLossReason): void;
}

/** The keeper's counters since it was made, for `/metrics`. */
export interface LeaseCounters {
  /** Leases renewed (one per slice per renewal). */
  leasesRenewed: number;
  /** Slices lost, to the deadline or to a refused renewal. */
  leasesLost: number;
  slicesTaken: number;
  slicesGivenBack: number;
}

export interface LeaseKeeperOptions {
  store: SliceLeaseStore;
  hooks: LeaseHooks;
  /** Generated (`generateNodeId`) unless given. */
  nodeId?: string;
  /** Where other nodes reach this one, recorded in `runtime_nodes`. */
  address?: string | null;
  /** Lease duration. Default 10 s: the failover time, against false failovers on a pause. */
  ttlMs?: number;
  /** How often leases are renewed (and the share looked at). Default `ttlMs / 3`. */
  renewEveryMs?: number;
  /**
   * The node stops acting for a slice this long before its lease would expire, counted
   * from when the renewal was sent: room for a timer that fires late. Default `ttlMs / 5`.
   */
  safetyMarginMs?: number;
  /** The most slices given back per period. Default 16. */
  givePerPeriod?: number;
  /** A node whose heartbeat is older than this is not counted alive. Default `ttlMs`. */
  staleAfterMs?: number;
  /** A node whose heartbeat is older than this is deleted. Default `60 * ttlMs`. */
  forgetAfterMs?: number;
  /**
   * True when every node holds its presence lock: the slices of a node whose session is
   * gone are taken at once (`SliceLeaseStore.expireDeparted`), not after the TTL.
   */
  presence?: boolean;
  /** With `presence`: how often to look for nodes gone. Default 1 s (or the period if less). */
  departedEveryMs?: number;
  log?: Logger;
  /** Monotonic milliseconds; `performance.now` unless a test needs otherwise. */
  now?: () => number;
}
