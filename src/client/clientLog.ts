/**
 * Where the client reports what it does. A pino logger (the server's `Logger`) fits, and so
 * does any object with these methods; the default drops everything.
 */
export interface ClientLog {
  debug(details: object, message: string): void;
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

const drop = () => {};

/** A log that drops everything. */
export const silentClientLog: ClientLog = { debug: drop, info: drop, warn: drop, error: drop };
