import pg from 'pg';
import { StewardError } from '../errors.ts';
import { type Logger, silentLogger } from '../logger.ts';
import type { Database, NotificationHandler, Queryable, QueryResult } from './database.ts';

/** Options for the PostgreSQL engine. */
export interface PgDatabaseOptions {
  connectionString: string;
  /** Pool size; the snapshot writer needs few connections because it group-commits. */
  max?: number;
  connectTimeoutMs?: number;
  log?: Logger;
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

function wrap(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<Row>(text: string, params?: readonly unknown[]): Promise<QueryResult<Row>> {
      const result = await client.query(text, params as unknown[] | undefined);
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
    },
    async exec(sql: string): Promise<void> {
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
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
  });
  // An idle client whose backend dies emits 'error' on the pool; unhandled, it kills Node.
  pool.on('error', (error) => log.warn({ err: error, where }, 'idle PostgreSQL client failed'));

  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => {});
    const reason = error instanceof Error ? error.message : String(error);
    throw new StewardError(
      'ERR_DATABASE_UNREACHABLE',
      `cannot reach PostgreSQL at ${where}: ${reason}`,
      { where },
      { cause: error },
    );
  }

  const listeners = new Map<string, Set<NotificationHandler>>();
  let listenClient: pg.PoolClient | undefined;
  let releaseClaim: (() => Promise<void>) | undefined;
  let closed = false;
  const base = wrap(pool);

  /** Unlocks on the session that holds the claim; false when that session cannot answer. */
  async function unlockOnSession(client: pg.PoolClient): Promise<boolean> {
    try {
      const { rows } = await client.query<{ unlocked: boolean }>(
        'SELECT pg_advisory_unlock($1) AS unlocked',
        [RUNTIME_LOCK_KEY],
      );
      return rows[0]?.unlocked === true;
    } catch {
      return false;
    }
  }

  /**
   * Ends the backend that held the claim and waits until its lock is gone, so a claim made
   * right after the release (here or in another process) succeeds. Bounded: if the server
   * is unreachable there is nothing to wait for that this process can see.
   */
  async function endBackendHolding(pid: number): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      try {
        // Only a backend still holding an advisory lock here: a pid can be reused.
        const { rowCount } = await pool.query(
          `SELECT pg_terminate_backend(pid) FROM pg_locks
           WHERE pid = $1 AND locktype = 'advisory'
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
          [pid],
        );
        if (rowCount === 0) return;
      } catch (error) {
        log.warn({ err: error, where }, 'could not confirm the runtime claim was released');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  return {
    engine: 'postgres',
    location: `postgres://${where}`,
    query: base.query,
    exec: base.exec,

    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      // A checked-out client whose connection drops emits 'error'; unheard, it kills Node.
      // The failing query rejects as well, so this only has to keep the event quiet.
      const onError = (error: Error) => {
        broken = error;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          // The connection itself is gone: do not hand it back to the pool.
          broken =
            rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        }
        throw error;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },

    async listen(channel: string, handler: NotificationHandler) {
      if (!listenClient) {
        listenClient = await pool.connect();
        listenClient.on('error', (error) =>
          log.warn({ err: error, where }, 'LISTEN connection failed'),
        );
        listenClient.on('notification', (message) => {
          for (const h of listeners.get(message.channel) ?? []) h(message.payload ?? '');
        });
      }
      let handlers = listeners.get(channel);
      if (!handlers) {
        handlers = new Set();
        listeners.set(channel, handlers);
        await listenClient.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      }
      handlers.add(handler);
      return async () => {
        handlers.delete(handler);
        if (handlers.size === 0 && listeners.get(channel) === handlers && listenClient) {
          listeners.delete(channel);
          await listenClient.query(`UNLISTEN ${pg.escapeIdentifier(channel)}`);
        }
      };
    },

    async claimRuntime(onLost: (error: Error) => void) {
      const client = await pool.connect();
      let state: 'claiming' | 'held' | 'lost' | 'released' = 'claiming';
      // A dying connection may emit several errors; the claim is lost once.
      const onError = (error: Error) => {
        if (state !== 'held') return;
        state = 'lost';
        log.error({ err: error, where }, 'the connection holding the runtime claim failed');
        onLost(error);
      };
      client.on('error', onError);
      const { rows } = await client.query<{ taken: boolean; pid: number }>(
        'SELECT pg_try_advisory_lock($1) AS taken, pg_backend_pid() AS pid',
        [RUNTIME_LOCK_KEY],
      );
      if (!rows[0]?.taken) {
        client.off('error', onError);
        client.release();
        return null;
      }
      const holderPid = rows[0].pid;
      state = 'held';
      const release = async () => {
        if (state === 'released') return;
        const wasHeld = state === 'held';
        state = 'released';
        if (releaseClaim === release) releaseClaim = undefined;
        if (wasHeld && (await unlockOnSession(client))) {
          client.off('error', onError);
          client.release();
          return;
        }
        // The holding session could not unlock (or its connection already failed): the
        // server frees the lock only when that backend ends, which it may notice late.
        client.release(true);
        await endBackendHolding(holderPid);
      };
      releaseClaim = release;
      return release;
    },

    async close() {
      if (closed) return;
      closed = true;
      await releaseClaim?.();
      listenClient?.release();
      listenClient = undefined;
      await pool.end();
    },
  };
}
