import { z } from 'zod';
import { StewardError } from './errors.ts';

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

const ConfigSchema = z.object({
  /** Set: PostgreSQL at this URL. Unset: embedded PGlite in `dataDir`. */
  databaseUrl: PostgresUrl.optional(),
  /** Where embedded PGlite keeps its files, or `memory`. */
  dataDir: z.string().min(1).default('./.steward/data'),
  port: z.coerce.number().int().min(0).max(65_535).default(4600),
  host: z.string().min(1).default('127.0.0.1'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** The runtime's configuration, read from the environment. */
export type Config = z.infer<typeof ConfigSchema>;

const ENV_NAMES: Record<keyof Config, string> = {
  databaseUrl: 'DATABASE_URL',
  dataDir: 'STEWARD_DATA_DIR',
  port: 'PORT',
  host: 'HOST',
  logLevel: 'LOG_LEVEL',
};

/**
 * Reads and validates the configuration. A bad value throws `ERR_CONFIG_INVALID` with one
 * line naming the variable; the value itself is not echoed, since a URL may hold a password.
 *
 * @example
 * const config = loadConfig(process.env);
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw = Object.fromEntries(
    Object.entries(ENV_NAMES)
      .map(([key, name]) => [key, env[name] === '' ? undefined : env[name]])
      .filter(([, value]) => value !== undefined),
  );
  const parsed = ConfigSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  const key = first?.path[0] as keyof Config | undefined;
  const name = key ? ENV_NAMES[key] : 'configuration';
  throw new StewardError('ERR_CONFIG_INVALID', `${name} is invalid: ${first?.message}`, {
    issues: parsed.error.issues,
  });
}
