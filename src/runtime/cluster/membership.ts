// What the host needs to know of this node's place among several: which slices it holds,
// under which epochs. The lease keeper (leaseKeeper.ts) is the one that knows.

/** This node's leases, as the host reads them at every call and every commit. */
export interface SliceMembership {
  /** This node's id, the one its leases are held under. */
  readonly nodeId: string;
  /** The epoch under which this node holds `slice`, or undefined when it does not. */
  epochOf(slice: number): number | undefined;
  /** Whether this node may act for `slice` now (held, its deadline not passed). */
  holds(slice: number): boolean;
  /** The slices this node holds now. */
  held(): readonly number[];
  /** What the leases went through since the start, for `/healthz` and `/metrics`. */
  readonly counters?: Readonly<Record<LeaseCounter, number> & Partial<Record<CallCounter, number>>>;
}

/** The counters of a node's leases. */
export type LeaseCounter = 'leasesRenewed' | 'leasesLost' | 'slicesTaken' | 'slicesGivenBack';

/** Calls this node sent to the owners of their supervisors, and calls it served for others. */
export type CallCounter = 'callsForwarded' | 'callsServed';
