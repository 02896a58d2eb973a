#!/usr/bin/env node
// The `steward` command: the composition root that reads configuration and picks adapters.
import { parseArgs } from 'node:util';
import type { AnyStateMachine } from 'xstate';
import { type ConfigFlags, loadConfig } from './config.ts';
import { findConfigFile, inConfigFile, loadConfigFile, type StewardConfig } from './configFile.ts';
import { isStewardError } from './errors.ts';
import { createLogger } from './logger.ts';
import type { MachineRegistry } from './machines/registry.ts';
import { createSupervisorStore, migrate, openDatabase } from './persistence/index.ts';
import { checkMigrations } from './runtime/restore/migrationCheck.ts';
import { serve } from './serve.ts';
import { createRegistry } from './steward.ts';
import { enableTypeScriptImports } from './typescriptImports.ts';
import { BUILT_IN_MACHINES, runVisualize } from './visualizer/index.ts';

const USAGE = `usage: steward <command> [flags]

commands:
  serve             apply migrations, restore every unfinished supervisor, and serve the
                    HTTP API and WebSocket protocol on one port: the config file's machines,
                    or a demo when there is no config file
  migrate           apply pending migrations and exit
  check-migration   dry run: what restoring every stored supervisor would do with the
                    config's machines (restore, migrate, checkpoint, fresh); writes nothing
  visualize         render a machine as a statechart (Mermaid, SVG, JSON, HTML): a file, or
                    a machine id of the config; steward visualize --help for its flags

config file: steward.config.ts (.mts, .js, .mjs) in the working directory, or --config FILE;
  export default defineConfig({ machines: [...], tasks: {...}, ...any option below }).
  Flags override environment variables, which override the config file.

flags (each overrides its environment variable):
  --config FILE                                      the config file (default: found in .)
  --port N                 PORT                      default 7420 (0: any free port)
  --host ADDR              HOST                      default 127.0.0.1
  --data-dir DIR           STEWARD_DATA_DIR          PGlite files, or "memory"; default ./.steward/data
  --log-level LEVEL        LOG_LEVEL                 fatal|error|warn|info|debug|trace|silent
  --tokens-file FILE       STEWARD_TOKENS_FILE       JSON: [{ "token", "owner" | "admin": true, "roles" }]
                           STEWARD_TOKENS            owner:token,...  (*:token = admin)
  --dev-token-file FILE    STEWARD_DEV_TOKEN_FILE    admin token generated when none is configured;
                                                     default ./.steward/dev-token
  --allowed-origins LIST   STEWARD_ALLOWED_ORIGINS   browser origins besides the server's own
  --demo / --no-demo       STEWARD_DEMO=on|off       the demo supervisors; default on
                                                     without a config file, off with one
  --demo-answer-delay MS   STEWARD_DEMO_ANSWER_DELAY_MS  a stand-in answers demo questions
  --passivate-after MS     STEWARD_PASSIVATE_AFTER_MS  idle supervisors leave memory after this;
                                                     default 600000 (10 min), 0: never
  --restore lazy|eager     STEWARD_RESTORE           lazy (default): a start rebuilds only the
                                                     supervisors with work in flight or a timer
                                                     due; the rest on their first touch
  --cluster / --no-cluster STEWARD_CLUSTER=on|off    share this PostgreSQL with other runtimes:
                                                     supervisors placed by leased slices;
                                                     default on with PostgreSQL (off: this
                                                     runtime claims the database alone)
  --lease-ttl MS           STEWARD_LEASE_TTL_MS      a node's leases without renewal; 10000
  --node-address URL       STEWARD_NODE_ADDRESS      how others reach this node
  --retain-finished TIME   STEWARD_RETAIN_FINISHED   finished supervisors older than this are
                                                     deleted with their journal (30d, 12h, ms);
                                                     default 30d, 0: keep everything
  --webhook-url URL        STEWARD_WEBHOOK_URL       POST each question asked / resolved here
                           STEWARD_WEBHOOK_SECRET    its signing key (16+ characters; no flag)
                           DATABASE_URL              postgres://user@host:5432/db; unset: PGlite
  --database-wait MS       STEWARD_DATABASE_WAIT_MS  how long a start waits for an unreachable
                                                     database; default: as long as it takes
  --database-connect-timeout MS   STEWARD_DATABASE_CONNECT_TIMEOUT_MS    default 5000
  --database-statement-timeout MS STEWARD_DATABASE_STATEMENT_TIMEOUT_MS  a statement with no
                                                     reply fails, its connection replaced; 10000
  --commit-timeout MS      STEWARD_COMMIT_TIMEOUT_MS  a call not committed by then gets
                                                     ERR_COMMIT_IN_DOUBT; default 10000
  --shutdown-timeout MS    STEWARD_SHUTDOWN_TIMEOUT_MS  longest flush on SIGTERM/SIGINT; 10000
  -h, --help               this text`;

const FLAG_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  config: { type: 'string' },
  demo: { type: 'boolean' },
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
  restore: { type: 'string' },
  cluster: { type: 'boolean' },
  'no-cluster': { type: 'boolean' },
  'lease-ttl': { type: 'string' },
  'node-address': { type: 'string' },
  'retain-finished': { type: 'string' },
  'webhook-url': { type: 'string' },
  'database-wait': { type: 'string' },
  'database-connect-timeout': { type: 'string' },
  'database-statement-timeout': { type: 'string' },
  'commit-timeout': { type: 'string' },
  'shutdown-timeout': { type: 'string' },
} as const;

/** The configuration key each string flag sets (`--demo` / `--no-demo` are booleans). */
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
  restore: 'restore',
  'lease-ttl': 'leaseTtlMs',
  'node-address': 'nodeAddress',
  'retain-finished': 'retainFinished',
  'webhook-url': 'webhookUrl',
  'database-wait': 'databaseWaitMs',
  'database-connect-timeout': 'databaseConnectTimeoutMs',
  'database-statement-timeout': 'databaseStatementTimeoutMs',
  'commit-timeout': 'commitTimeoutMs',
  'shutdown-timeout': 'shutdownTimeoutMs',
} as const satisfies Partial<Record<keyof typeof FLAG_OPTIONS, keyof ConfigFlags>>;

/** The config file's content, or none (the demo's registry) when there is no file. */
async function readConfigFile(cwd: string, explicit: string | undefined) {
  const path = await findConfigFile(cwd, explicit);
  if (path === undefined) return undefined;
  return loadConfigFile(path);
}

/**
 * `--config FILE` taken out of the visualize command's arguments (its own parser does not
 * know it), and the config's machines by id, else the built-in ones.
 */
async function visualizeMachines(args: string[]) {
  const rest = [...args];
  let explicit: string | undefined;
  const at = rest.findIndex((a) => a === '--config' || a.startsWith('--config='));
  if (at >= 0) {
    const arg = rest[at] as string;
    explicit = arg.includes('=') ? arg.slice('--config='.length) : rest[at + 1];
    rest.splice(at, arg.includes('=') ? 1 : 2);
  }
  const file = await readConfigFile(process.cwd(), explicit);
  if (!file) return { args: rest, machines: BUILT_IN_MACHINES };
  const machines: Record<string, AnyStateMachine> = {};
  try {
    for (const definition of createRegistry({ machines: file.config.machines }).list()) {
      machines[definition.id] = definition.machine;
    }
  } catch (error) {
    throw inConfigFile(file.path, error);
  }
  return { args: rest, machines };
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
  // visualize has flags of its own and needs no database. It may be given TypeScript.
  if (argv[0] === 'visualize') {
    await enableTypeScriptImports();
    const { args, machines } = await visualizeMachines(argv.slice(1));
    return runVisualize(args, undefined, { machines });
  }
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
  const flags: ConfigFlags = {};
  if (values.demo !== undefined) flags.demo = values.demo ? 'on' : 'off';
  if (values['no-demo']) flags.demo = 'off';
  if (values.cluster) flags.cluster = 'on';
  if (values['no-cluster']) flags.cluster = 'off';
  for (const [flag, key] of Object.entries(FLAG_KEYS)) {
    const value = values[flag as keyof typeof FLAG_KEYS];
    if (value !== undefined) flags[key] = value;
  }

  const file = await readConfigFile(process.cwd(), values.config);
  const fileConfig: StewardConfig = file?.config ?? {};
  const { machines, tasks, ...fileOptions } = fileConfig;
  const config = loadConfig(
    process.env,
    flags,
    file
      ? { source: file.path.slice(file.path.lastIndexOf('/') + 1), values: fileOptions }
      : undefined,
  );
  const hosted = { machines, tasks };
  // A machine the registry refuses is a problem of the config file: say which.
  const named = (error: unknown) =>
    file && isStewardError(error, 'ERR_MACHINE_INVALID') ? inConfigFile(file.path, error) : error;
  const log = createLogger({ level: config.logLevel });
  if (command === 'serve') {
    const code = await serve({ ...config, ...hosted, log }).catch((error: unknown) => {
      throw named(error);
    });
    // Stopped within its bound: a socket to a dead database may still be open, and must
    // not keep the process alive past it.
    process.exit(code);
  }
  let registry: MachineRegistry;
  try {
    registry = createRegistry({ ...hosted, demo: config.demo });
  } catch (error) {
    throw named(error);
  }
  const db = await openDatabase(config, log);
  try {
    log.info({ engine: db.engine, location: db.location }, 'database opened');
    const report = await migrate(db, { log });
    log.info(
      { applied: report.applied.length, alreadyApplied: report.alreadyApplied },
      'database migrated',
    );
    if (command === 'check-migration') {
      const report = await checkMigrations(createSupervisorStore(db), registry, log);
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
