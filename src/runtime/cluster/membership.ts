// What the host needs to know of this node's place among several: which slices it holds,
// under which epochs. The lease keeper (leaseKeeper.ts) is the one that knows.

/** This node's leases, as the host reads them at every call and every commit. */
export interface SliceMembership {
  /** This node's id, the one its leases are held under. */
  readonly nodeId: string;
  /** The epoch under which this node holds `slice`, or undefined when it does not. */
  epochOf(slice: number): number | undefined;
  /** The slices this node holds now. */
  held(): readonly number[];
}
