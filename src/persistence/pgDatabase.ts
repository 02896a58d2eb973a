import { createHash } from 'node:crypto';
import pg from 'pg';
import { StewardError } from '../errors.ts';
import { type Logger, silentLogger } from '../logger.ts';
import { setTimeoutAfterIo } from '../timers.ts';
import {
  type Database,
  type NotificationHandler,
  type Queryable,
  type QueryOptions,
  type QueryResult,
  sqlState,
} from './database.ts';
import { NODE_LOCK_CLASS } from './nodeLock.ts';

/** Options for the PostgreSQL engine. */
export interface PgDatabaseOptions {
  connectionString: string;
  /** Pool size; the snapshot writer needs few connections because it group-commits. */
  max?: number;
  /** A connection attempt that takes longer fails. Default 5 s. */
  connectTimeoutMs?: number;
  /**
   * A statement with no reply after this long fails and its connection is destroyed: a
   * connection gone silently dead (a NAT or firewall timeout, a failed-over host) is found
   * by the first statement sent on it. Migrations are exempt. Default 10 s.
   */
  statementTimeoutMs?: number;
  /** TCP keepalive: idle time before the first probe. Default 10 s. */
  keepAliveMs?: number;
  /**
   * How often the connection holding the runtime claim is asked `SELECT 1`; no reply
   * within twice this means the claim is lost. Default 2 s.
   */
  claimCheckIntervalMs?: number;
  log?: Logger;
}

/** Defaults of the timeouts above; `docs/operations.md` states the bounds they give. */
export const PG_TIMEOUT_DEFAULTS: Readonly<Record<PgTimeout, number>> = Object.freeze({
  connectTimeoutMs: 5_000,
  statementTimeoutMs: 10_000,
  keepAliveMs: 10_000,
  claimCheckIntervalMs: 2_000,
});

type PgTimeout = 'connectTimeoutMs' | 'statementTimeoutMs' | 'keepAliveMs' | 'claimCheckIntervalMs';

/** SQLSTATEs of a server that cannot take a connection now but will: starting up, full. */
const TRANSIENT_REFUSALS = new Set(['57P03', '53300', '53000']);

/**
 * A failure of the connection itself, not of the statement: no SQLSTATE (a server error
 * always has one). Such a connection is destroyed, never handed back to the pool.
 */
function isConnectionFailure(error: unknown): boolean {
  return sqlState(error) === undefined;
}

/** `host:port/database` of a connection string, never its password. */
export function describePostgresUrl(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    return `${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

/** The options among `PG_TIMEOUT_DEFAULTS` that are set. */
function definedOf(options: PgDatabaseOptions): Partial<Record<PgTimeout, number>> {
  const set: Partial<Record<PgTimeout, number>> = {};
  for (const key of Object.keys(PG_TIMEOUT_DEFAULTS) as PgTimeout[]) {
    const value = options[key];
    if (value !== undefined) set[key] = value;
  }
  return set;
}

/**
 * A statement on a checked-out client, failed with no SQLSTATE (a connection failure, so
 * the client is destroyed, not pooled) when no reply came within `ms`. The timer waits for
 * the I/O already received: a process that was frozen does not call a reply late that is
 * sitting in its socket.
 */
async function timedQuery<Row>(
  client: pg.PoolClient,
  text: string,
  params: readonly unknown[] | undefined,
  ms: number,
  options?: QueryOptions,
): Promise<pg.QueryResult<Row & pg.QueryResultRow>> {
  const values = params as unknown[] | undefined;
  const reply = options?.prepared
    ? client.query<Row & pg.QueryResultRow>({ name: statementName(text), text, values })
    : client.query<Row & pg.QueryResultRow>(text, values);
  let cancel: (() => void) | undefined;
  const silence = new Promise<never>((_, reject) => {
    cancel = setTimeoutAfterIo(
      () => reject(new Error(`no reply from PostgreSQL within ${ms} ms: connection dropped`)),
      ms,
    );
  });
  // The reply may still come (or fail) after the caller gave up on it.
  reply.catch(() => {});
  try {
    return await Promise.race([reply, silence]);
  } finally {
    cancel?.();
  }
}

const statementNames = new Map<string, string>();

/**
 * The name a prepared statement goes by on every connection: derived from its text, so two
 * texts never share a name (pg refuses a name reused for other text) and a connection that
 * prepared it once sends only the parameters after.
 */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `steward_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return name;
}

/** Statements on one checked-out client: timed; scripts (migrations) are not. */
function onClient(client: pg.PoolClient, statementTimeoutMs: number): Queryable {
  return {
    async query<Row>(
      text: string,
      params?: readonly unknown[],
      options?: QueryOptions,
    ): Promise<QueryResult<Row>> {
      const result = await timedQuery<Row>(client, text, params, statementTimeoutMs, options);
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
    },
    async exec(sql: string): Promise<void> {
      // A migration may take long on a big table.
      await client.query(sql);
    },
  };
}

/**
 * The advisory lock of the runtime that serves a database (the migrator's lock is another
 * key): one `steward serve` per PostgreSQL database until several nodes share one.
 */
const RUNTIME_LOCK_KEY = 7_420_000_001;

/**
 * Opens a pool on a PostgreSQL server and checks that the server answers, so a wrong
 * address fails at start with one clear line instead of at the first save.
 */
export async function openPgDatabase(options: PgDatabaseOptions): Promise<Database> {
  const log = options.log ?? silentLogger;
  const where = describePostgresUrl(options.connectionString);
  const timeouts = { ...PG_TIMEOUT_DEFAULTS, ...definedOf(options) };
  const newPool = () => {
    const created = new pg.Pool({
      connectionString: options.connectionString,
      max: options.max ?? 10,
      connectionTimeoutMillis: timeouts.connectTimeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: timeouts.keepAliveMs,
      // A backend whose client vanished mid-transaction gives its locks back.
      idle_in_transaction_session_timeout: 4 * timeouts.statementTimeoutMs,
    });
    // An idle client whose backend dies emits 'error' on the pool; unhandled, it kills Node.
    created.on('error', (error) =>
      log.warn({ err: error, where }, 'idle PostgreSQL client failed'),
    );
    return created;
  };
  let pool = newPool();

  try {
    const client = await pool.connect();
    const quiet = () => {};
    client.on('error', quiet);
    try {
      await timedQuery(client, 'SELECT 1', undefined, timeouts.connectTimeoutMs);
      client.off('error', quiet);
      client.release();
    } catch (error) {
      client.release(true);
      throw error;
    }
  } catch (error) {
    await pool.end().catch(() => {});
    const reason = error instanceof Error ? error.message : String(error);
    const state = sqlState(error);
    throw new StewardError(
      'ERR_DATABASE_UNREACHABLE',
      `cannot reach PostgreSQL at ${where}: ${reason}`,
      // The server answered and said no (a wrong password, no such database): waiting
      // would not help, unless it is starting up or full.
      { where, retryable: state === undefined || TRANSIENT_REFUSALS.has(state) },
      { cause: error },
    );
  }

  const listeners = new Map<string, Set<NotificationHandler>>();
  /** The connection LISTENing on every channel of `listeners`, once it is made. */
  let listening: Promise<pg.PoolClient> | undefined;
  let relisten: NodeJS.Timeout | undefined;

  /**
   * The LISTEN connection, made again (with every channel) after it failed: a listener's
   * notifications stop while it is down, which is why every listener also polls.
   */
  function listenConnection(): Promise<pg.PoolClient> {
    listening ??= (async () => {
      const client = await pool.connect();
      client.on('notification', (message) => {
        for (const h of listeners.get(message.channel) ?? []) h(message.payload ?? '');
      });
      client.on('error', (error) => {
        // Released already (it failed before, or the database closed): nothing to redo.
        if (droppedListeners.has(client)) return;
        log.warn({ err: error, where }, 'LISTEN connection failed; listening again shortly');
        dropListener(client, error);
      });
      try {
        for (const channel of listeners.keys()) {
          await timedQuery(
            client,
            `LISTEN ${pg.escapeIdentifier(channel)}`,
            undefined,
            timeouts.statementTimeoutMs,
          );
        }
      } catch (error) {
        dropListener(client, error);
        throw error;
      }
      return client;
    })();
    const made = listening;
    made.catch(() => {
      if (listening === made) listening = undefined;
      scheduleRelisten();
    });
    return made;
  }

  const droppedListeners = new WeakSet<pg.PoolClient>();
  function dropListener(client: pg.PoolClient, error: unknown): void {
    if (droppedListeners.has(client)) return;
    droppedListeners.add(client);
    client.release(error instanceof Error ? error : new Error(String(error)));
    listening = undefined;
    scheduleRelisten();
  }

  function scheduleRelisten(): void {
    if (closed || listeners.size === 0 || relisten) return;
    relisten = setTimeout(() => {
      relisten = undefined;
      if (!closed && !listening && listeners.size > 0) listenConnection().catch(() => {});
    }, 1_000);
    relisten.unref();
  }
  let releaseClaim: (() => Promise<void>) | undefined;
  /** The backend of this pool's last claim, until it is released. */
  let previousHolder: number | undefined;
  let closed = false;

  /**
   * Runs `fn` on a client of the pool of the moment (`resetConnections` replaces it). The
   * client goes back to the pool unless its connection failed, or `fn` says it is broken.
   */
  async function withClient<T>(
    fn: (db: Queryable, client: pg.PoolClient, markBroken: (error: unknown) => void) => Promise<T>,
  ): Promise<T> {
    const client = await pool.connect();
    let broken: Error | undefined;
    const markBroken = (error: unknown) => {
      broken = error instanceof Error ? error : new Error(String(error));
    };
    // A checked-out client whose connection drops emits 'error'; unheard, it kills Node.
    // The statement in progress rejects as well: this only has to keep the event quiet.
    client.on('error', markBroken);
    try {
      return await fn(onClient(client, timeouts.statementTimeoutMs), client, markBroken);
    } catch (error) {
      if (isConnectionFailure(error)) markBroken(error);
      throw error;
    } finally {
      client.off('error', markBroken);
      client.release(broken);
    }
  }
  const base: Queryable = {
    query: (text, params, options) => withClient((db) => db.query(text, params, options)),
    exec: (sql) => withClient((db) => db.exec(sql)),
  };

  /** Unlocks on the session that holds the claim; false when that session cannot answer. */
  // The session holds the claim's locks and no other: unlocking them all is unlocking it.
  async function unlockOnSession(client: pg.PoolClient): Promise<boolean> {
    try {
      await timedQuery(client, 'SELECT pg_advisory_unlock_all()', [], timeouts.statementTimeoutMs);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The runtime lock alone, or (for a node) shared plus the node's own lock, in one
   * statement: when the second cannot be had, the first is let go before it returns.
   */
  async function tryLock(
    client: pg.PoolClient,
    nodeId: string | undefined,
  ): Promise<{ taken: boolean; pid: number }> {
    const { rows } = await timedQuery<{ taken: boolean; pid: number }>(
      client,
      nodeId === undefined
        ? 'SELECT pg_try_advisory_lock($1) AS taken, pg_backend_pid() AS pid'
        : `SELECT CASE WHEN NOT pg_try_advisory_lock_shared($1) THEN false
                       WHEN pg_try_advisory_lock($2, hashtext($3)) THEN true
                       ELSE NOT pg_advisory_unlock_shared($1) END AS taken,
                  pg_backend_pid() AS pid`,
      nodeId === undefined ? [RUNTIME_LOCK_KEY] : [RUNTIME_LOCK_KEY, NODE_LOCK_CLASS, nodeId],
      timeouts.statementTimeoutMs,
    );
    return rows[0] ?? { taken: false, pid: 0 };
  }

  /**
   * Ends the backend that held the claim and waits until its lock is gone, so a claim made
   * right after the release (here or in another process) succeeds. Bounded: if the server
   * is unreachable there is nothing to wait for that this process can see. True when the
   * lock is gone.
   */
  async function endBackendHolding(pid: number): Promise<boolean> {
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      try {
        // Only a backend still holding an advisory lock here: a pid can be reused.
        const { rowCount } = await base.query(
          `SELECT pg_terminate_backend(pid) FROM pg_locks
           WHERE pid = $1 AND locktype = 'advisory'
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
          [pid],
        );
        if (rowCount === 0) return true;
      } catch (error) {
        log.warn({ err: error, where }, 'could not confirm the runtime claim was released');
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return false;
  }

  return {
    engine: 'postgres',
    location: `postgres://${where}`,
    query: base.query,
    exec: base.exec,

    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return withClient(async (tx, client, markBroken) => {
        try {
          await tx.query('BEGIN');
          const result = await fn(tx);
          await tx.query('COMMIT');
          return result;
        } catch (error) {
          // Timed out or cut: a ROLLBACK would wait behind the statement that never ends
          // (withClient drops the connection).
          if (isConnectionFailure(error)) throw error;
          try {
            await timedQuery(client, 'ROLLBACK', undefined, timeouts.statementTimeoutMs);
          } catch (rollbackError) {
            // The connection itself is gone: do not hand it back to the pool.
            markBroken(rollbackError);
          }
          throw error;
        }
      });
    },

    async listen(channel: string, handler: NotificationHandler) {
      let handlers = listeners.get(channel);
      if (!handlers) {
        handlers = new Set();
        listeners.set(channel, handlers);
        const client = await listenConnection();
        await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      }
      handlers.add(handler);
      return async () => {
        handlers.delete(handler);
        if (handlers.size === 0 && listeners.get(channel) === handlers) {
          listeners.delete(channel);
          const client = await listening;
          await client?.query(`UNLISTEN ${pg.escapeIdentifier(channel)}`);
        }
      };
    },

    async claimRuntime(onLost: (error: Error) => void, as?: { nodeId: string }) {
      const client = await pool.connect();
      let state: 'claiming' | 'held' | 'lost' | 'released' = 'claiming';
      let check: NodeJS.Timeout | undefined;
      // A dying connection may emit several errors; the claim is lost once.
      const lose = (error: Error) => {
        if (state !== 'held') return;
        state = 'lost';
        clearInterval(check);
        log.error({ err: error, where }, 'the connection holding the runtime claim failed');
        // Destroyed: a connection that stopped answering would hold the lock for nothing.
        client.release(error);
        onLost(error);
      };
      client.on('error', lose);
      let taken: { taken: boolean; pid: number } | undefined;
      try {
        taken = await tryLock(client, as?.nodeId);
        // Our own earlier session still holds it (its connection went silently dead and
        // the server has not noticed): end it, as its holder, and take the lock.
        if (
          !taken.taken &&
          previousHolder !== undefined &&
          (await endBackendHolding(previousHolder))
        ) {
          taken = await tryLock(client, as?.nodeId);
        }
      } catch (error) {
        client.off('error', lose);
        client.release(error instanceof Error ? error : true);
        throw error;
      }
      if (!taken.taken) {
        client.off('error', lose);
        client.release();
        return null;
      }
      const holderPid = taken.pid;
      previousHolder = holderPid;
      state = 'held';
      // A connection can die without an error event (half-open): ask it a question often.
      check = setInterval(() => {
        timedQuery(client, 'SELECT 1', undefined, 2 * timeouts.claimCheckIntervalMs).catch(
          (error: unknown) => {
            lose(error instanceof Error ? error : new Error(String(error)));
          },
        );
      }, timeouts.claimCheckIntervalMs);
      check.unref();
      const release = async () => {
        if (state === 'released') return;
        const wasHeld = state === 'held';
        state = 'released';
        clearInterval(check);
        if (releaseClaim === release) releaseClaim = undefined;
        if (previousHolder === holderPid) previousHolder = undefined;
        if (wasHeld && (await unlockOnSession(client))) {
          client.off('error', lose);
          client.release();
          return;
        }
        // The holding session could not unlock (or its connection already failed): the
        // server frees the lock only when that backend ends, which it may notice late.
        if (wasHeld) client.release(true);
        await endBackendHolding(holderPid);
      };
      releaseClaim = release;
      return release;
    },

    resetConnections() {
      if (closed) return;
      // Connections to a server can go silently dead together: one found dead means the
      // idle others may be too, and each would cost a statement timeout to find out.
      const old = pool;
      pool = newPool();
      old.end().catch(() => {});
      log.info({ where }, 'PostgreSQL connections replaced');
    },

    async close() {
      if (closed) return;
      closed = true;
      await releaseClaim?.();
      clearTimeout(relisten);
      const client = await listening?.catch(() => undefined);
      if (client && !droppedListeners.has(client)) {
        // Marked first: the server may still end it, and say so, while it closes (a drop
        // of the database WITH FORCE): that error must not release it a second time.
        droppedListeners.add(client);
        client.release();
      }
      listening = undefined;
      await pool.end();
    },
  };
}
