// The runtime and its database over time: wait for it at start, hold the claim on it, and
// when the claim is lost (the database went away, or its connection silently died) stop
// acting, keep trying, and take up the work again once it can claim it anew.
import type { ClusterNode } from './cluster.ts';
import { isStewardError, StewardError } from './errors.ts';
import type { Logger } from './logger.ts';
import type { Database } from './persistence/database.ts';
import type { SupervisorHost } from './runtime/supervisorHost.ts';
import type { Availability } from './server/availability.ts';

/** Waits between attempts: from the first to the longest, doubling. */
const BACKOFF = { firstMs: 200, longestMs: 1_000 } as const;

function backoffMs(attempt: number): number {
  return Math.min(BACKOFF.longestMs, BACKOFF.firstMs * 2 ** Math.max(0, attempt - 1));
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function stopped(): StewardError {
  return new StewardError('ERR_RUNTIME_STOPPED', 'stopped while waiting for the database');
}

/**
 * Opens the database, waiting while it is unreachable (each attempt logged with host and
 * port, never the password) for at most `waitMs` (unset: as long as it takes). A server
 * that answers and refuses (a wrong password, no such database), any other failure, or
 * the wait running out, throws.
 */
export async function openWhenReachable(
  open: () => Promise<Database>,
  options: { log: Logger; waitMs: number | undefined; signal: AbortSignal },
): Promise<Database> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await open();
    } catch (error) {
      if (!isStewardError(error, 'ERR_DATABASE_UNREACHABLE') || error.details.retryable === false) {
        throw error;
      }
      const waited = Date.now() - started;
      if (options.waitMs !== undefined && waited >= options.waitMs) throw error;
      options.log.warn(
        { attempt, waitedMs: waited, where: error.details.where },
        `${error.message}; trying again`,
      );
      await pause(backoffMs(attempt), options.signal);
      if (options.signal.aborted) throw stopped();
    }
  }
}

/** What the claim keeper reports to the runtime. */
export interface ClaimEvents {
  /** The claim is gone: stop acting at once (another runtime may take over). */
  lost(reason: string): void;
  /** Claimed again after a loss: restore; a throw counts as losing it again. */
  regained(): Promise<void>;
}

/** The claim on the database, held for as long as the runtime runs. */
export interface DatabaseClaim {
  /** True while held. */
  readonly held: boolean;
  /** Stops trying and releases the claim if held. Idempotent. */
  release(): Promise<void>;
}

/**
 * Takes the claim on `db` (refusing with `ERR_RUNTIME_ALREADY_RUNNING` when another runtime
 * holds it), then holds it: when it is lost, tells `events.lost`, drops the pool's idle
 * connections (they may be dead too) and tries again with backoff until it has it, then
 * awaits `events.regained`. Never exits the process.
 */
export async function holdDatabaseClaim(
  db: Database,
  events: ClaimEvents,
  log: Logger,
  as?: { nodeId: string },
): Promise<DatabaseClaim> {
  const stop = new AbortController();
  let release: (() => Promise<void>) | null = null;
  let recovering = false;

  const onLost = (error: Error) => {
    release = null;
    lose(`the connection holding the claim failed: ${error.message}`);
  };

  function lose(reason: string): void {
    if (stop.signal.aborted) return;
    events.lost(reason);
    if (recovering) return;
    recovering = true;
    void recover().finally(() => {
      recovering = false;
    });
  }

  async function recover(): Promise<void> {
    db.resetConnections();
    for (let attempt = 1; !stop.signal.aborted; attempt++) {
      await pause(backoffMs(attempt), stop.signal);
      if (stop.signal.aborted) return;
      try {
        release = await db.claimRuntime(onLost, as);
      } catch (error) {
        log.warn({ attempt, err: messageOf(error) }, 'database still unreachable; trying again');
        continue;
      }
      if (!release) {
        log.warn({ attempt }, 'another runtime holds the claim on the database; waiting');
        continue;
      }
      try {
        await events.regained();
        return;
      } catch (error) {
        // Lost again while restoring (or the restore failed): start over.
        log.warn({ err: messageOf(error) }, 'could not take up the work again; trying again');
        const held = release as (() => Promise<void>) | null;
        release = null;
        await held?.().catch(() => {});
        events.lost(`restoring after the database came back failed: ${messageOf(error)}`);
      }
    }
  }

  release = await db.claimRuntime(onLost, as);
  if (!release) {
    throw new StewardError(
      'ERR_RUNTIME_ALREADY_RUNNING',
      as
        ? `a Steward runtime that does not share its database (cluster off) is serving ${db.location}; stop it first, or start it again with cluster on`
        : `another Steward runtime is serving ${db.location}; stop it first, or run every runtime of this database with cluster on (the default on PostgreSQL)`,
      { location: db.location },
    );
  }
  return {
    get held() {
      return release !== null;
    },
    async release() {
      stop.abort();
      const held = release as (() => Promise<void>) | null;
      release = null;
      await held?.();
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * One runtime per database: claims it for `host` (a second runtime refuses to start, since
 * two restoring and writing the same supervisors would undo each other's commits). A claim
 * lost later is a state, not an exit: calls are refused, and once claimed again every
 * unfinished supervisor is restored. The release is pushed to `undo`.
 */
export async function claimForHost(
  db: Database,
  host: SupervisorHost,
  availability: Availability,
  log: Logger,
  undo: Array<(remainingMs: number) => unknown>,
): Promise<void> {
  const takeUp = async () => {
    const done = await host.restoreAll('restart');
    host.databaseBack();
    return done;
  };
  const work = {
    stop: () => host.databaseLost(),
    takeUp,
    refusing: 'refusing calls until it can be claimed again',
  };
  await claimAvailable(db, work, availability, log, undo);
}

/**
 * A node among several: holds its presence on `db` (the runtime lock shared with the other
 * nodes, so a runtime claiming the database for itself is refused, and a lock of its own)
 * for as long as it runs. Take it before `node.join`. Lost, the node stops acting for every
 * slice at once (the other nodes take them as soon as they see its lock free) and refuses
 * calls; claimed again, it takes a share anew and restores it before taking calls again.
 * The release is pushed to `undo`.
 */
export async function claimForNode(
  db: Database,
  node: Pick<ClusterNode, 'keeper' | 'databaseLost' | 'databaseBack'>,
  availability: Availability,
  log: Logger,
  undo: Array<(remainingMs: number) => unknown>,
): Promise<void> {
  const work = {
    stop: () => node.databaseLost(),
    takeUp: () => node.databaseBack(),
    refusing: 'no slice held, refusing calls until it is back',
  };
  await claimAvailable(db, work, availability, log, undo, { nodeId: node.keeper.nodeId });
}

/**
 * Holds the claim and keeps `availability` in step with it: lost, the work stops and
 * clients are told; claimed again, the work is taken up (restored) and only then are they
 * told it is available.
 */
async function claimAvailable(
  db: Database,
  work: {
    stop(): void;
    takeUp(): Promise<{ restored: number; failed: number; deferred: number }>;
    refusing: string;
  },
  availability: Availability,
  log: Logger,
  undo: Array<(remainingMs: number) => unknown>,
  as?: { nodeId: string },
): Promise<void> {
  const claim = await holdDatabaseClaim(
    db,
    {
      lost(reason) {
        work.stop();
        if (availability.current().database === 'unavailable') return;
        log.error({ reason }, `database lost: ${work.refusing}`);
        availability.set('unavailable', reason);
      },
      async regained() {
        const { restored, failed, deferred } = await work.takeUp();
        availability.set('available');
        log.info({ restored, failed, deferred }, `database back: ${restored} supervisors restored`);
      },
    },
    log,
    as,
  );
  undo.push(() => claim.release());
}
