#!/usr/bin/env node
// The `steward` command: the composition root that reads configuration and picks adapters.
import { parseArgs } from 'node:util';
import { loadConfig } from './config.ts';
import { demoStepTask, startDemo } from './demo.ts';
import { isStewardError } from './errors.ts';
import { createLogger, type Logger } from './logger.ts';
import { referenceSupervisor } from './machines/referenceSupervisor.ts';
import { createMachineRegistry } from './machines/registry.ts';
import { createSupervisorStore, migrate, openDatabase } from './persistence/index.ts';
import { checkMigrations } from './runtime/migrationCheck.ts';
import { createSupervisorHost } from './runtime/supervisorHost.ts';

const USAGE = `usage: steward <command>

commands:
  serve             apply migrations and start the runtime
  migrate           apply pending migrations and exit
  check-migration   dry run: what restoring every stored supervisor would do with the
                    registered machines (restore, migrate, checkpoint, fresh); writes nothing

configuration (environment):
  DATABASE_URL      postgres://user@host:5432/db; unset: embedded PGlite
  STEWARD_DATA_DIR  PGlite data directory (default ./.steward/data, or "memory")
  LOG_LEVEL         fatal|error|warn|info|debug|trace|silent (default info)
  STEWARD_DEMO      "off" to serve without the demo supervisors`;

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
  if (command !== 'serve' && command !== 'migrate' && command !== 'check-migration') {
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
    if (command === 'serve') await serve(db, log);
    if (command === 'check-migration') {
      const report = await checkMigrations(createSupervisorStore(db), builtInRegistry(), log);
      console.log(JSON.stringify({ checkMigration: report }, null, 2));
    }
    return 0;
  } finally {
    await db.close();
  }
}

/** Runs the supervisor host until SIGINT or SIGTERM, then shuts down in reverse order. */
/** The machines and tasks this command hosts. */
function builtInRegistry() {
  const registry = createMachineRegistry();
  registry.register({ id: 'reference', version: 1, machine: referenceSupervisor });
  registry.registerTask('step', demoStepTask());
  return registry;
}

async function serve(db: Awaited<ReturnType<typeof openDatabase>>, log: Logger): Promise<void> {
  const registry = builtInRegistry();
  const host = createSupervisorHost({ store: createSupervisorStore(db), registry, log });
  const stopDemo =
    process.env.STEWARD_DEMO === 'off'
      ? () => {}
      : startDemo({
          host,
          log,
          ...(process.env.STEWARD_DEMO_ANSWER_DELAY_MS
            ? { answerDelayMs: Number(process.env.STEWARD_DEMO_ANSWER_DELAY_MS) }
            : {}),
        });
  const { restored } = await host.restoreAll('restart');
  log.info(
    {
      engine: db.engine,
      location: db.location,
      machines: registry.list().map((m) => m.id),
      restored,
    },
    `Steward runtime started with ${restored} supervisors restored; press Ctrl+C to stop`,
  );
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log.info({ signal }, 'shutting down: no new work, flushing every pending write');
  // A second signal while flushing means "now": leave without waiting.
  const force = () => process.exit(1);
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  stopDemo();
  await host.stop();
  log.info('Steward runtime stopped');
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
