import { readFileSync } from 'node:fs';
import ms from 'ms';
import { z } from 'zod';
import { StewardError } from './errors.ts';
import { TokenGrant } from './server/auth.ts';

const PostgresUrl = z.string().refine(
  (value) => {
    try {
      const url = new URL(value);
      return (
        (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== ''
      );
    } catch {
      return false;
    }
  },
  { message: 'must look like postgres://user@host:5432/database' },
);

/** The non-empty, trimmed entries of a comma-separated list. */
function commaList(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/** `owner:token` pairs separated by commas; `*:token` is an admin token. */
const TokenList = z.string().transform((value, ctx) =>
  commaList(value).map((pair): TokenGrant => {
    const colon = pair.indexOf(':');
    if (colon <= 0) {
      ctx.addIssue({
        code: 'custom',
        message: 'each entry is owner:token (or *:token for admin)',
      });
      return { token: '' };
    }
    const owner = pair.slice(0, colon);
    const token = pair.slice(colon + 1);
    return owner === '*' ? { token, admin: true } : { token, owner };
  }),
);

/**
 * A span of time: milliseconds, or text as `ms` reads it (`30d`, `12h`, `90m`, `45s`); a
 * bare number is milliseconds.
 */
const Duration = z.union([z.number(), z.string()]).transform((given, ctx) => {
  const value =
    typeof given === 'number' || /^\s*\d+\s*$/.test(given)
      ? Number(given)
      : ms(given as ms.StringValue);
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be a duration such as 30d, 12h or 90m, or a number of milliseconds',
    });
    return z.NEVER;
  }
  return Math.round(value);
});

const DAY_MS = 86_400_000;

const Flag = z
  .enum(['on', 'off', 'true', 'false', '1', '0'])
  .transform((v) => ['on', 'true', '1'].includes(v));

/**
 * How a flag's or a variable's text becomes the typed value a config file gives directly;
 * the schema below then checks both alike.
 */
const FROM_TEXT: Partial<Record<string, z.ZodType>> = {
  tokens: TokenList,
  allowedOrigins: z.string().transform(commaList),
  demo: Flag,
  cluster: Flag,
};

const ConfigSchema = z.object({
  /** Set: PostgreSQL at this URL. Unset: embedded PGlite in `dataDir`. */
  databaseUrl: PostgresUrl.optional(),
  /** Where embedded PGlite keeps its files, or `memory`. */
  dataDir: z.string().min(1).default('./.steward/data'),
  port: z.coerce.number().int().min(0).max(65_535).default(7420),
  host: z.string().min(1).default('127.0.0.1'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Tokens given inline. */
  tokens: z.array(TokenGrant).default([]),
  /** A JSON file holding an array of `{ token, owner?, admin?, roles? }`. */
  tokensFile: z.string().min(1).optional(),
  /** Where the generated admin token is kept when no tokens are configured. */
  devTokenFile: z.string().min(1).default('./.steward/dev-token'),
  /** Browser origins allowed to open the WebSocket besides the server's own. */
  allowedOrigins: z.array(z.string().min(1)).default([]),
  /** Run the demo supervisors (on by default only when no config file is used). */
  demo: z.boolean().default(false),
  /** Set: a stand-in person answers demo questions after this many milliseconds. */
  demoAnswerDelayMs: z.coerce.number().int().min(0).optional(),
  /** Idle supervisors leave memory after this many milliseconds; 0 keeps them all. */
  passivateAfterMs: z.coerce.number().int().min(0).default(600_000),
  /**
   * `lazy`: a start rebuilds only the supervisors that must run now (work in flight, a timer
   * due within a minute); the rest come back on their first touch. `eager`: every one.
   */
  restore: z.enum(['lazy', 'eager']).default('lazy'),
  /**
   * Join the other runtimes on the same PostgreSQL: supervisors are placed by leased slices
   * (docs/operations.md, "Several nodes"). Off: one runtime per database, a second refuses.
   * Default: on with PostgreSQL, off (and refused) with embedded PGlite.
   */
  cluster: z.boolean().optional(),
  /** How long a node's leases last without renewal: failover time against false failover. */
  leaseTtlMs: z.coerce.number().int().min(1_000).default(10_000),
  /** How other nodes and clients reach this node (`http://host:port`), shown to them. */
  nodeAddress: z.string().min(1).optional(),
  /**
   * Supervisors finished (completed, failed, cancelled) longer ago than this are deleted
   * with their journal, checkpoints and tasks, in batches; 0 keeps everything.
   */
  retainFinished: Duration.default(30 * DAY_MS),
  /** Set: questions asked and resolved are POSTed here, signed with `webhookSecret`. */
  webhookUrl: z
    .url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' })
    .optional(),
  /** The HMAC key of webhook signatures; required with `webhookUrl`. */
  webhookSecret: z.string().min(16, 'must have at least 16 characters').optional(),
  /** How long a start waits for an unreachable database; unset: as long as it takes. */
  databaseWaitMs: z.coerce.number().int().min(0).optional(),
  /** A PostgreSQL connection attempt that takes longer fails. */
  databaseConnectTimeoutMs: z.coerce.number().int().min(100).default(5_000),
  /** A statement with no reply after this long fails and its connection is replaced. */
  databaseStatementTimeoutMs: z.coerce.number().int().min(100).default(10_000),
  /** How long a call waits for its commit before `ERR_COMMIT_IN_DOUBT`. */
  commitTimeoutMs: z.coerce.number().int().min(10).default(10_000),
  /** How long a stop may take to flush; what is left is reported (never acknowledged). */
  shutdownTimeoutMs: z.coerce.number().int().min(0).default(10_000),
});

/** The runtime's configuration, validated, with every default filled in. */
export type Config = Omit<z.infer<typeof ConfigSchema>, 'cluster'> & {
  /** Resolved: on with PostgreSQL unless turned off; always off with PGlite. */
  cluster: boolean;
};

/**
 * The serve options a config file (`defineConfig`) or `createSteward` takes, typed; each
 * has the meaning of its flag and variable (`steward serve --help`).
 */
export interface ServeOptions {
  /** PostgreSQL at this URL; unset: embedded PGlite in `dataDir`. */
  databaseUrl?: string | undefined;
  /** Where embedded PGlite keeps its files, or `memory`. Default `./.steward/data`. */
  dataDir?: string | undefined;
  /** Where HTTP and WebSocket listen; `0`: any free port. Default 7420. */
  port?: number | undefined;
  /** Default `127.0.0.1`. */
  host?: string | undefined;
  logLevel?: Config['logLevel'] | undefined;
  tokens?: TokenGrant[] | undefined;
  /** A JSON file of tokens, read again when it changes. */
  tokensFile?: string | undefined;
  /** Where the admin token generated when none is configured is kept. */
  devTokenFile?: string | undefined;
  /** Browser origins allowed besides the server's own. */
  allowedOrigins?: string[] | undefined;
  /** Run the demo supervisors beside your own. */
  demo?: boolean | undefined;
  demoAnswerDelayMs?: number | undefined;
  /** Idle supervisors leave memory after this many ms; 0 keeps them all. Default 10 min. */
  passivateAfterMs?: number | undefined;
  /**
   * `lazy` (default): a start rebuilds only the supervisors that must run now; every other
   * one (waiting for a person, say) on its first touch. `eager`: all of them at start.
   */
  restore?: 'lazy' | 'eager' | undefined;
  /**
   * Share the PostgreSQL database with other runtimes (several nodes). Default: on with
   * PostgreSQL; off, one runtime that claims the database for itself.
   */
  cluster?: boolean | undefined;
  /** Lease TTL of a node's slices, ms. Default 10 s. */
  leaseTtlMs?: number | undefined;
  /** How others reach this node, shown in `runtime_nodes` and `/healthz`. */
  nodeAddress?: string | undefined;
  /**
   * Finished supervisors older than this are deleted with everything of theirs: ms, or a
   * duration such as `'30d'` or `'12h'`. Default 30 days; 0 keeps everything.
   */
  retainFinished?: number | string | undefined;
  /** POST each question asked and resolved here, signed with `webhookSecret`. */
  webhookUrl?: string | undefined;
  webhookSecret?: string | undefined;
  /** How long a start waits for an unreachable database; unset: as long as it takes. */
  databaseWaitMs?: number | undefined;
  /** A PostgreSQL connection attempt that takes longer fails. Default 5 s. */
  databaseConnectTimeoutMs?: number | undefined;
  /** A statement with no reply after this long fails; its connection is replaced. 10 s. */
  databaseStatementTimeoutMs?: number | undefined;
  /** How long a call waits for its commit before `ERR_COMMIT_IN_DOUBT`. Default 10 s. */
  commitTimeoutMs?: number | undefined;
  /** How long a stop may take to flush; what is left is reported. Default 10 s. */
  shutdownTimeoutMs?: number | undefined;
}

const ENV_NAMES: Record<keyof Config, string> = {
  databaseUrl: 'DATABASE_URL',
  dataDir: 'STEWARD_DATA_DIR',
  port: 'PORT',
  host: 'HOST',
  logLevel: 'LOG_LEVEL',
  tokens: 'STEWARD_TOKENS',
  tokensFile: 'STEWARD_TOKENS_FILE',
  devTokenFile: 'STEWARD_DEV_TOKEN_FILE',
  allowedOrigins: 'STEWARD_ALLOWED_ORIGINS',
  demo: 'STEWARD_DEMO',
  demoAnswerDelayMs: 'STEWARD_DEMO_ANSWER_DELAY_MS',
  passivateAfterMs: 'STEWARD_PASSIVATE_AFTER_MS',
  restore: 'STEWARD_RESTORE',
  cluster: 'STEWARD_CLUSTER',
  leaseTtlMs: 'STEWARD_LEASE_TTL_MS',
  nodeAddress: 'STEWARD_NODE_ADDRESS',
  retainFinished: 'STEWARD_RETAIN_FINISHED',
  webhookUrl: 'STEWARD_WEBHOOK_URL',
  webhookSecret: 'STEWARD_WEBHOOK_SECRET',
  databaseWaitMs: 'STEWARD_DATABASE_WAIT_MS',
  databaseConnectTimeoutMs: 'STEWARD_DATABASE_CONNECT_TIMEOUT_MS',
  databaseStatementTimeoutMs: 'STEWARD_DATABASE_STATEMENT_TIMEOUT_MS',
  commitTimeoutMs: 'STEWARD_COMMIT_TIMEOUT_MS',
  shutdownTimeoutMs: 'STEWARD_SHUTDOWN_TIMEOUT_MS',
};

/** Command-line flags override the environment; each is named like its variable. */
export type ConfigFlags = Partial<Record<keyof Config, string>>;

/** Typed values below the environment: a config file's, or those given to `createSteward`. */
export interface ConfigValues {
  /** Named in error messages: the config file's name, or `createSteward options`. */
  source: string;
  values: ServeOptions;
}

function invalidConfig(name: string, message: string, details: Record<string, unknown> = {}) {
  return new StewardError('ERR_CONFIG_INVALID', `${name} is invalid: ${message}`, details);
}

/**
 * Reads and validates the configuration: flags over environment variables over `typed`
 * values (a config file's) over defaults. The demo is on by default only when there are
 * no typed values. A bad value throws `ERR_CONFIG_INVALID` with one line naming the
 * variable (or the file and key); the value itself is not echoed, since a URL or a token
 * list holds secrets.
 *
 * @example
 * const config = loadConfig(process.env, { port: '0' });
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  flags: ConfigFlags = {},
  typed?: ConfigValues,
): Config {
  const raw: Record<string, unknown> = {};
  const nameOf = (key: keyof Config) =>
    flags[key] === undefined && !env[ENV_NAMES[key]] && typed
      ? `${typed.source}: ${key}`
      : ENV_NAMES[key];
  // Issues carry no values, only paths and messages: a token list's would leak tokens.
  const refuse = (name: string, issues: z.core.$ZodIssue[]): never => {
    throw invalidConfig(name, String(issues[0]?.message), {
      issues: issues.map((i) => ({ path: i.path, message: i.message })),
    });
  };
  for (const [key, name] of Object.entries(ENV_NAMES) as [keyof Config, string][]) {
    const text = flags[key] ?? env[name];
    if (text !== undefined && text !== '') {
      const fromText = FROM_TEXT[key]?.safeParse(text);
      if (fromText && !fromText.success) refuse(name, fromText.error.issues);
      raw[key] = fromText ? fromText.data : text;
    } else if (typed?.values[key] !== undefined) raw[key] = typed.values[key];
  }
  raw.demo ??= typed === undefined;
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const key = parsed.error.issues[0]?.path[0] as keyof Config | undefined;
    return refuse(key ? nameOf(key) : 'configuration', parsed.error.issues);
  }
  if (parsed.data.webhookUrl !== undefined && parsed.data.webhookSecret === undefined) {
    throw invalidConfig(nameOf('webhookSecret'), `is required with ${nameOf('webhookUrl')}`);
  }
  if (parsed.data.cluster && parsed.data.databaseUrl === undefined) {
    // Embedded PGlite is one process's database: there is nothing to share.
    throw invalidConfig(nameOf('cluster'), `needs PostgreSQL (${nameOf('databaseUrl')})`);
  }
  return { ...parsed.data, cluster: parsed.data.cluster ?? parsed.data.databaseUrl !== undefined };
}

/** Every configured token: inline ones and those of the tokens file. */
export function configuredTokens(config: Config): TokenGrant[] {
  if (config.tokensFile === undefined) return config.tokens;
  let text: string;
  try {
    text = readFileSync(config.tokensFile, 'utf8');
  } catch (error) {
    throw invalidConfig(
      'STEWARD_TOKENS_FILE',
      `cannot read ${config.tokensFile} (${(error as NodeJS.ErrnoException).code})`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidConfig('STEWARD_TOKENS_FILE', `${config.tokensFile} is not valid JSON`);
  }
  const grants = z.array(TokenGrant).safeParse(value);
  if (!grants.success) {
    const first = grants.error.issues[0];
    throw invalidConfig('STEWARD_TOKENS_FILE', `${first?.path.join('.')}: ${first?.message}`);
  }
  return [...config.tokens, ...grants.data];
}
