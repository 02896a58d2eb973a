import type { RuntimeStatusFrame } from '../protocol/frames.ts';

/** Whether the runtime has its database, as clients and `/readyz` are told. */
export type RuntimeAvailability = Omit<RuntimeStatusFrame, 'type'>;

/**
 * The runtime's availability, set by whoever holds the database claim (`createSteward`)
 * and read by the server: `/readyz`, and a `runtime.status` frame to every client on each
 * change (and on connecting while the database is away).
 */
export interface Availability {
  current(): RuntimeAvailability;
  /** Records a change; listeners hear of it only when `database` changed. */
  set(database: RuntimeAvailability['database'], reason?: string): void;
  subscribe(listener: (status: RuntimeAvailability) => void): () => void;
}

/**
 * Creates the availability record, `available` from now.
 *
 * @example
 * const availability = createAvailability();
 * availability.set('unavailable', 'the connection holding the claim failed');
 */
export function createAvailability(): Availability {
  let status: RuntimeAvailability = { database: 'available', since: new Date().toISOString() };
  const listeners = new Set<(status: RuntimeAvailability) => void>();
  return {
    current: () => status,
    set(database, reason) {
      if (status.database === database) return;
      status = {
        database,
        since: new Date().toISOString(),
        ...(reason === undefined ? {} : { reason }),
      };
      for (const listener of listeners) listener(status);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
