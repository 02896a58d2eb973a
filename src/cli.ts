#!/usr/bin/env node
// The `steward` command: the composition root that reads configuration and picks adapters.
import { parseArgs } from 'node:util';
import { type ConfigFlags, loadConfig } from './config.ts';
import { demoStepTask } from './demo.ts';
import { isStewardError } from './errors.ts';
import { createLogger } from './logger.ts';
import { referenceSupervisor } from './machines/referenceSupervisor.ts';
import { createMachineRegistry } from './machines/registry.ts';
import { createSupervisorStore, migrate, openDatabase } from './persistence/index.ts';
import { checkMigrations } from './runtime/migrationCheck.ts';
import { serve } from './serve.ts';
import { runVisualize } from './visualizer/index.ts';

const USAGE = `usage: steward <command> [flags]

commands:
  serve             apply migrations, restore every unfinished supervisor, and serve the
                    HTTP API and WebSocket protocol on one port (with a demo by default)
  migrate           apply pending migrations and exit
  check-migration   dry run: what restoring every stored supervisor would do with the
                    registered machines (restore, migrate, checkpoint, fresh); writes nothing
  visualize         render a machine as a statechart (Mermaid, SVG, JSON, HTML);
                    steward visualize --help for its flags

flags (each overrides its environment variable):
  --port N                 PORT                      default 7420 (0: any free port)
  --host ADDR              HOST                      default 127.0.0.1
  --data-dir DIR           STEWARD_DATA_DIR          PGlite files, or "memory"; default ./.steward/data
  --log-level LEVEL        LOG_LEVEL                 fatal|error|warn|info|debug|trace|silent
  --tokens-file FILE       STEWARD_TOKENS_FILE       JSON: [{ "token", "owner" | "admin": true, "roles" }]
                           STEWARD_TOKENS            owner:token,...  (*:token = admin)
  --dev-token-file FILE    STEWARD_DEV_TOKEN_FILE    admin token generated when none is configured;
                                                     default ./.steward/dev-token
  --allowed-origins LIST   STEWARD_ALLOWED_ORIGINS   browser origins besides the server's own
  --no-demo                STEWARD_DEMO=off          serve without the demo supervisors
  --demo-answer-delay MS   STEWARD_DEMO_ANSWER_DELAY_MS  a stand-in answers demo questions
  --passivate-after MS     STEWARD_PASSIVATE_AFTER_MS  idle supervisors leave memory after this;
                                                     default 600000 (10 min), 0: never
  --webhook-url URL        STEWARD_WEBHOOK_URL       POST each question asked / resolved here
                           STEWARD_WEBHOOK_SECRET    its signing key (16+ characters; no flag)
                           DATABASE_URL              postgres://user@host:5432/db; unset: PGlite
  -h, --help               this text`;

const FLAG_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  port: { type: 'string' },
  host: { type: 'string' },
  'data-dir': { type: 'string' },
  'log-level': { type: 'string' },
  'tokens-file': { type: 'string' },
  'dev-token-file': { type: 'string' },
  'allowed-origins': { type: 'string' },
  'no-demo': { type: 'boolean' },
  'demo-answer-delay': { type: 'string' },
  'passivate-after': { type: 'string' },
  'webhook-url': { type: 'string' },
} as const;

/** The configuration key each string flag sets (`--no-demo` is the one boolean). */
const FLAG_KEYS = {
  port: 'port',
  host: 'host',
  'data-dir': 'dataDir',
  'log-level': 'logLevel',
  'tokens-file': 'tokensFile',
  'dev-token-file': 'devTokenFile',
  'allowed-origins': 'allowedOrigins',
  'demo-answer-delay': 'demoAnswerDelayMs',
  'passivate-after': 'passivateAfterMs',
  'webhook-url': 'webhookUrl',
} as const satisfies Partial<Record<keyof typeof FLAG_OPTIONS, keyof ConfigFlags>>;

/** The machines and tasks this command hosts. */
function builtInRegistry() {
  const registry = createMachineRegistry();
  registry.register({ id: 'reference', version: 1, machine: referenceSupervisor });
  registry.registerTask('step', demoStepTask());
  return registry;
}

function parseFlags(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: FLAG_OPTIONS });
  } catch (error) {
    console.error(`steward: ${(error as Error).message}\n\n${USAGE}`);
    return null;
  }
}

async function main(argv: string[]): Promise<number> {
  // visualize has flags of its own and needs no database.
  if (argv[0] === 'visualize') return runVisualize(argv.slice(1));
  const parsed = parseFlags(argv);
  if (!parsed) return 2;
  const { positionals, values } = parsed;
  const command = positionals[0];
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  if (command !== 'serve' && command !== 'migrate' && command !== 'check-migration') {
    console.error(`steward: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  const flags: ConfigFlags = values['no-demo'] ? { demo: 'off' } : {};
  for (const [flag, key] of Object.entries(FLAG_KEYS)) {
    const value = values[flag as keyof typeof FLAG_KEYS];
    if (value !== undefined) flags[key] = value;
  }

  const config = loadConfig(process.env, flags);
  const log = createLogger({ level: config.logLevel });
  const db = await openDatabase(config, log);
  try {
    log.info({ engine: db.engine, location: db.location }, 'database opened');
    const report = await migrate(db, { log });
    log.info(
      { applied: report.applied.length, alreadyApplied: report.alreadyApplied },
      'database migrated',
    );
    if (command === 'serve') await serve(config, db, builtInRegistry(), log);
    if (command === 'check-migration') {
      const report = await checkMigrations(createSupervisorStore(db), builtInRegistry(), log);
      console.log(JSON.stringify({ checkMigration: report }, null, 2));
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
