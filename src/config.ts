import { readFileSync } from 'node:fs';
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
const TokenList = z
  .string()
  .transform((value, ctx) =>
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
  )
  .pipe(z.array(TokenGrant));

const Flag = z
  .enum(['on', 'off', 'true', 'false', '1', '0'])
  .transform((v) => ['on', 'true', '1'].includes(v));

const ConfigSchema = z.object({
  /** Set: PostgreSQL at this URL. Unset: embedded PGlite in `dataDir`. */
  databaseUrl: PostgresUrl.optional(),
  /** Where embedded PGlite keeps its files, or `memory`. */
  dataDir: z.string().min(1).default('./.steward/data'),
  port: z.coerce.number().int().min(0).max(65_535).default(7420),
  host: z.string().min(1).default('127.0.0.1'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Tokens given inline. */
  tokens: TokenList.default([]),
  /** A JSON file holding an array of `{ token, owner?, admin?, roles? }`. */
  tokensFile: z.string().min(1).optional(),
  /** Where the generated admin token is kept when no tokens are configured. */
  devTokenFile: z.string().min(1).default('./.steward/dev-token'),
  /** Browser origins allowed to open the WebSocket besides the server's own. */
  allowedOrigins: z.string().transform(commaList).default([]),
  /** Run the demo supervisors. */
  demo: Flag.default(true),
  /** Set: a stand-in person answers demo questions after this many milliseconds. */
  demoAnswerDelayMs: z.coerce.number().int().min(0).optional(),
  /** Idle supervisors leave memory after this many milliseconds; 0 keeps them all. */
  passivateAfterMs: z.coerce.number().int().min(0).default(600_000),
  /** Set: questions asked and resolved are POSTed here, signed with `webhookSecret`. */
  webhookUrl: z
    .url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' })
    .optional(),
  /** The HMAC key of webhook signatures; required with `webhookUrl`. */
  webhookSecret: z.string().min(16, 'must have at least 16 characters').optional(),
});

/** The runtime's configuration, from the environment and command-line flags. */
export type Config = z.infer<typeof ConfigSchema>;

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
  webhookUrl: 'STEWARD_WEBHOOK_URL',
  webhookSecret: 'STEWARD_WEBHOOK_SECRET',
};

/** Command-line flags override the environment; each is named like its variable. */
export type ConfigFlags = Partial<Record<keyof Config, string>>;

function invalidConfig(name: string, message: string, details: Record<string, unknown> = {}) {
  return new StewardError('ERR_CONFIG_INVALID', `${name} is invalid: ${message}`, details);
}

/**
 * Reads and validates the configuration. A bad value throws `ERR_CONFIG_INVALID` with one
 * line naming the variable; the value itself is not echoed, since a URL or a token list
 * holds secrets.
 *
 * @example
 * const config = loadConfig(process.env, { port: '0' });
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, flags: ConfigFlags = {}): Config {
  const raw: Record<string, string> = {};
  for (const [key, name] of Object.entries(ENV_NAMES)) {
    const value = flags[key as keyof Config] ?? env[name];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const key = first?.path[0] as keyof Config | undefined;
    // Issues of a token list carry no values, only paths and messages.
    throw invalidConfig(key ? ENV_NAMES[key] : 'configuration', String(first?.message), {
      issues: parsed.error.issues.map((i) => ({ path: i.path, message: i.message })),
    });
  }
  if (parsed.data.webhookUrl !== undefined && parsed.data.webhookSecret === undefined) {
    throw invalidConfig('STEWARD_WEBHOOK_SECRET', 'is required with STEWARD_WEBHOOK_URL');
  }
  return parsed.data;
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
