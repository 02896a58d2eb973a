import type { Logger } from '../logger.ts';
import type { Database } from './database.ts';
import { openPgDatabase } from './pgDatabase.ts';
import { openPgliteDatabase } from './pgliteDatabase.ts';

/**
 * Opens the engine the configuration names: PostgreSQL when `databaseUrl` is set,
 * embedded PGlite otherwise.
 */
export function openDatabase(
  config: {
    databaseUrl?: string | undefined;
    dataDir: string;
    databaseConnectTimeoutMs?: number | undefined;
    databaseStatementTimeoutMs?: number | undefined;
  },
  log?: Logger,
): Promise<Database> {
  if (config.databaseUrl) {
    return openPgDatabase({
      connectionString: config.databaseUrl,
      ...(log ? { log } : {}),
      ...(config.databaseConnectTimeoutMs === undefined
        ? {}
        : { connectTimeoutMs: config.databaseConnectTimeoutMs }),
      ...(config.databaseStatementTimeoutMs === undefined
        ? {}
        : { statementTimeoutMs: config.databaseStatementTimeoutMs }),
    });
  }
  return openPgliteDatabase({ dataDir: config.dataDir });
}
