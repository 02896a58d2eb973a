// A runtime among several on one PostgreSQL: instead of claiming the database for itself,
// it keeps leases on its share of the slices (runtime/cluster/leaseKeeper.ts) and the host
// acts for the supervisors of those slices only. What a slice taken, given back or lost
// means for the supervisors is wired here.
import type { Logger } from './logger.ts';
import type { RestorationSource } from './model/supervisor.ts';
import { createChangeFeedStore } from './persistence/changeFeed.ts';
import type { Database } from './persistence/database.ts';
import { createForwardedCallStore } from './persistence/forwardedCalls.ts';
import { createSliceLeaseStore } from './persistence/sliceLeases.ts';
import { LeaseKeeper, type TakenLease } from './runtime/cluster/leaseKeeper.ts';
import type { SliceMembership } from './runtime/cluster/membership.ts';
import { CallForwarder } from './runtime/forwarding/callForwarder.ts';
import { forwardingHost } from './runtime/forwarding/forwardingHost.ts';
import { InboxWorker } from './runtime/forwarding/inboxWorker.ts';
import { KeyedLine } from './runtime/forwarding/keyedLine.ts';
import { RemoteChanges } from './runtime/forwarding/remoteChanges.ts';
import type { SupervisorHost } from './runtime/supervisorHost.ts';

/** This node's place among several, between the keeper and the host. */
export interface ClusterNode {
  readonly keeper: LeaseKeeper;
  /** What the host reads of the leases (give it as `slices` when creating the host). */
  readonly membership: SliceMembership;
  /**
   * Registers the node and takes its share; restores each slice as it is taken. Resolves
   * once the slices taken at the join are restored, with what their restores did.
   */
  join(host: SupervisorHost): Promise<Restored>;
  /**
   * The host the server and the clients use: a call for a supervisor this node does not
   * act for goes to its owner (an inbox row, then a NOTIFY) and resolves after the
   * owner's commit. Webhooks and the demo keep the node's own host: they act on what it
   * commits.
   */
  serving(host: SupervisorHost): SupervisorHost;
  /**
   * The node's session is gone (its presence claim lost): stops acting for every slice at
   * once and refuses calls (`ERR_DATABASE_UNAVAILABLE`) until `databaseBack`.
   */
  databaseLost(): void;
  /**
   * The session is back (claimed again): takes a share anew, restores it, then takes calls
   * again. Rejects when the database fails meanwhile (still refusing calls).
   */
  databaseBack(): Promise<Restored>;
  /** Gives every slice back (flushing its writes first) and leaves. */
  leave(): Promise<void>;
}

/**
 * A node of the cluster on `db`. The slices it takes as it joins are restored as a restart
 * (the supervisors of a node that stopped or died before this one started); slices taken
 * later, from a node whose leases expired or that gave them back, as a failover (the seed's
 * "task reassigned"). A restore that fails (the database away) is tried again, later each
 * time up to 30 s apart, for the slices still held; meanwhile a call restores a supervisor
 * on its first touch (lazy restore), or is refused.
 */
export function clusterNode(
  db: Database,
  options: {
    ttlMs: number;
    address?: string | undefined;
    log: Logger;
    /** How long a forwarded call waits for its owner; default twice the TTL plus 10 s. */
    forwardTimeoutMs?: number;
    /**
     * True when the node holds its presence claim (`claimForNode`, before `join`), as do
     * all the others: then a node whose session ended is seen at once, not after the TTL.
     */
    presence?: boolean;
  },
): ClusterNode {
  let host: SupervisorHost | undefined;
  let joined = false;
  /** The restores in progress: the join, and a return of the database, wait for them. */
  const restoring = new Set<Promise<Restored>>();
  const { log } = options;

  let leaving = false;
  const restore = (
    leases: readonly TakenLease[],
    source: RestorationSource = joined ? 'failover' : 'restart',
    attempt = 0,
  ) => {
    const duties = host?.slices;
    if (!host || !duties) return;
    const slices = leases.map((lease) => lease.slice);
    const started = performance.now();
    const running = host;
    const inProgress = duties
      .arrive(slices, () => running.restoreAll(source, slices))
      .then((done) => {
        log.info(
          { slices: slices.length, source, ...done, ms: ms(started) },
          `slices taken: ${done.restored} supervisors restored`,
        );
        return done;
      })
      .catch((error: unknown) => {
        const retryMs = Math.min(1_000 * 2 ** attempt, 30_000);
        log.error(
          { slices, err: error, retryMs },
          'could not restore the supervisors of slices taken; trying again',
        );
        const timer = setTimeout(() => {
          const still = leases.filter((lease) => keeper.holds(lease.slice));
          if (!leaving && still.length > 0) restore(still, source, attempt + 1);
        }, retryMs);
        timer.unref();
        return { restored: 0, failed: 0, deferred: 0 };
      });
    restoring.add(inProgress);
    void inProgress.finally(() => restoring.delete(inProgress));
  };
  /** What the restores in progress did, once they are done. */
  const restored = async (): Promise<Restored> => {
    const done = await Promise.all(restoring);
    return {
      restored: sum(done, 'restored'),
      failed: sum(done, 'failed'),
      deferred: sum(done, 'deferred'),
    };
  };

  const keeper = new LeaseKeeper({
    store: createSliceLeaseStore(db),
    ttlMs: options.ttlMs,
    address: options.address ?? null,
    presence: options.presence ?? false,
    log,
    hooks: {
      // Its own slices back after its session ended are this node's restart, not a failover.
      taken(leases) {
        const own = leases.filter((lease) => lease.previousNode === keeper.nodeId);
        const others = leases.filter((lease) => lease.previousNode !== keeper.nodeId);
        if (own.length > 0) restore(own, 'restart');
        if (others.length > 0) restore(others);
      },
      async yielding(slices) {
        const dropped = (await host?.slices?.giveBack(slices)) ?? 0;
        log.info({ slices: slices.length, supervisors: dropped }, 'slices given back');
      },
      lost(slices, reason) {
        const dropped = host?.slices?.drop(slices) ?? 0;
        log.warn(
          { slices: slices.length, supervisors: dropped, reason },
          'slices lost: their supervisors left memory; another node takes them',
        );
      },
    },
  });

  const calls = createForwardedCallStore(db);
  const listen = db.listen.bind(db);
  const forwarder = new CallForwarder({
    store: calls,
    nodeId: keeper.nodeId,
    listen,
    timeoutMs: options.forwardTimeoutMs ?? 2 * options.ttlMs + 10_000,
    log,
  });
  let inbox: InboxWorker | undefined;
  let line: KeyedLine | undefined;
  const remote = new RemoteChanges({
    store: createChangeFeedStore(db),
    listen,
    isLocal: (id) => host?.slices?.owns(id) ?? false,
    log,
  });
  let unannounce: (() => void) | undefined;

  const membership: SliceMembership = {
    nodeId: keeper.nodeId,
    epochOf: (slice) => keeper.epochOf(slice),
    holds: (slice) => keeper.holds(slice),
    held: () => keeper.held().map((lease) => lease.slice),
    get counters() {
      return {
        ...keeper.counters,
        callsForwarded: forwarder.counters.forwarded,
        callsServed: (inbox?.counters.served ?? 0) + (inbox?.counters.refused ?? 0),
      };
    },
  };

  return {
    keeper,
    membership,
    async join(given) {
      host = given;
      await forwarder.start();
      await remote.start();
      unannounce = given.subscribe(() => remote.announce());
      await keeper.start();
      joined = true;
      const done = await restored();
      line ??= new KeyedLine(given);
      inbox = new InboxWorker({
        store: calls,
        nodeId: keeper.nodeId,
        host: given,
        line,
        slices: () => given.slices?.held() ?? [],
        listen,
        log,
      });
      await inbox.start();
      return done;
    },
    databaseLost() {
      keeper.suspend();
      host?.databaseLost();
    },
    async databaseBack() {
      await keeper.resume();
      const done = await restored();
      host?.databaseBack();
      return done;
    },
    serving(given) {
      line ??= new KeyedLine(given);
      return forwardingHost(given, forwarder, remote, line);
    },
    async leave() {
      leaving = true;
      await inbox?.stop();
      await keeper.stop();
      unannounce?.();
      await Promise.all([forwarder.stop(), remote.stop()]);
    },
  };
}

/** What restoring some slices did. */
export interface Restored {
  restored: number;
  failed: number;
  deferred: number;
}

function sum(all: readonly Restored[], key: keyof Restored): number {
  return all.reduce((total, one) => total + one[key], 0);
}

function ms(since: number): number {
  return Math.round(performance.now() - since);
}
