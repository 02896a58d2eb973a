#!/usr/bin/env node
// The `steward` command: the composition root that reads configuration and picks adapters.
import { parseArgs } from 'node:util';
import { loadConfig } from './config.ts';
import { isStewardError } from './errors.ts';
import { createLogger } from './logger.ts';
import { migrate, openDatabase } from './persistence/index.ts';

const USAGE = `usage: steward <command>

commands:
  serve     apply migrations and start the runtime
  migrate   apply pending migrations and exit

configuration (environment):
  DATABASE_URL      postgres://user@host:5432/db; unset: embedded PGlite
  STEWARD_DATA_DIR  PGlite data directory (default ./.steward/data, or "memory")
  LOG_LEVEL         fatal|error|warn|info|debug|trace|silent (default info)`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' } },
  });
  const command = positionals[0];
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  if (command !== 'serve' && command !== 'migrate') {
    console.error(`steward: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }

  const config = loadConfig();
  const log = createLogger({ level: config.logLevel });
  const db = await openDatabase(config, log);
  try {
    log.info({ engine: db.engine, location: db.location }, 'database opened');
    const report = await migrate(db, { log });
    log.info(
      { applied: report.applied.length, alreadyApplied: report.alreadyApplied },
      'database migrated',
    );
    if (command === 'serve') {
      // The runtime is not built yet: serving means a migrated database, and saying where.
      console.log(
        `Steward database ready (${db.engine}) at ${db.location}. ` +
          'The supervisor runtime arrives in a later version.',
      );
    }
    return 0;
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // One clear line for the errors a user can fix; a stack only for the unexpected.
    console.error(isStewardError(error) ? `steward: ${error.message}` : error);
    process.exitCode = 1;
  },
);
