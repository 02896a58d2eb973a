/** The rows a statement returned and how many rows it touched. */
export interface QueryResult<Row> {
  rows: Row[];
  rowCount: number;
}

/** How a statement is sent. */
export interface QueryOptions {
  /**
   * Prepare the statement once per connection and send only its parameters from then on
   * (PostgreSQL; PGlite ignores it): for a hot statement of constant text, whose parse,
   * analysis and planning would otherwise be paid on every call.
   */
  prepared?: boolean;
}

/** Anything that runs one parameterised statement: the database or a transaction. */
export interface Queryable {
  query<Row = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<Row>>;
  /** Runs a script of several statements without parameters (migration files). */
  exec(sql: string): Promise<void>;
}

/** A notification received on a LISTENed channel. */
export type NotificationHandler = (payload: string) => void;

/**
 * The database seam: everything Steward needs from PostgreSQL, with two engines behind it
 * (`pg` against a server, PGlite embedded). Only `src/persistence` uses it.
 */
export interface Database extends Queryable {
  readonly engine: 'postgres' | 'pglite';
  /** A human-readable location for logs: `postgres://host:port/db` or the data directory. */
  readonly location: string;
  /**
   * Runs `fn` in one transaction on one connection: committed when `fn` resolves,
   * rolled back when it throws. Statements must go through the handle `fn` receives.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Subscribes to a NOTIFY channel; resolves to an unsubscribe function. */
  listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>>;
  /**
   * Claims the database for one runtime: a session advisory lock held on a connection of
   * its own (PostgreSQL; a PGlite directory is exclusive from the moment it is opened).
   * Resolves to the release function, or `null` when another process holds the claim.
   * `onLost` is called when the claim ends without a release (its connection died): then
   * another runtime may take over, and this one must stop writing.
   *
   * With `as.nodeId`, the claim of one node among several: the runtime lock shared (so a
   * runtime claiming the database for itself is refused, and refuses them) plus a lock of
   * the node's own, whose being free tells the other nodes this node's session is gone
   * (`nodePresenceFreeSql`).
   */
  claimRuntime(
    onLost: (error: Error) => void,
    as?: { nodeId: string },
  ): Promise<(() => Promise<void>) | null>;
  /**
   * Drops every idle connection (and hands out new ones from now on), after one was found
   * dead: others to the same server may be dead too. A no-op for PGlite.
   */
  resetConnections(): void;
  /** Closes every connection. Idempotent. */
  close(): Promise<void>;
}

/** SQLSTATE of a database error, whichever engine raised it. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}
