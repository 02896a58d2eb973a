// A team's `steward.config.ts`: its machines, its tasks and its serve options, loaded once
// at start. Every way it can be wrong stops the command with one line naming the file.
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyActorLogic } from 'xstate';
import { z } from 'zod';
import type { ServeOptions } from './config.ts';
import { isStewardError, StewardError } from './errors.ts';
import type { MachineDefinition } from './machines/registry.ts';
import { enableTypeScriptImports, isTypeScriptFile } from './typescriptImports.ts';

/** What a config file exports by default: its machines and tasks, and any serve option. */
export interface StewardConfig extends ServeOptions {
  /** The machines this runtime hosts; each id and version once. */
  machines?: MachineDefinition[] | undefined;
  /** The task logic the machines spawn, by name (`spawnTasks`). */
  tasks?: Record<string, AnyActorLogic> | undefined;
}

/**
 * Types a config file's default export; returns it unchanged.
 *
 * @example
 * // steward.config.ts
 * import { defineConfig } from 'steward';
 * import { expenseApproval } from './src/expenseApproval.ts';
 *
 * export default defineConfig({
 *   machines: [{ id: 'expense-approval', version: 1, machine: expenseApproval }],
 *   port: 7420,
 * });
 */
export function defineConfig(config: StewardConfig): StewardConfig {
  return config;
}

/** The names a config file is found by in the working directory, in this order. */
export const CONFIG_FILE_NAMES = [
  'steward.config.ts',
  'steward.config.mts',
  'steward.config.js',
  'steward.config.mjs',
] as const;

/** A config file, loaded and checked (its machines are registered later, and checked then). */
export interface LoadedConfigFile {
  path: string;
  config: StewardConfig;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

/** Shape only: the registry checks each machine, `loadConfig` each serve option. */
const ConfigFileShape = z
  .object({
    machines: z
      .array(
        z.object({
          id: z.string(),
          version: z.number(),
          machine: z.custom((value) => isObject(value) && isObject(value.root), {
            message: 'must be an XState machine (createMachine / setup().createMachine)',
          }),
        }),
      )
      .optional(),
    tasks: z
      .record(
        z.string(),
        z.custom((value) => isObject(value) && typeof value.transition === 'function', {
          message: 'must be XState actor logic (fromPromise, fromCallback, a machine…)',
        }),
      )
      .optional(),
    ...Object.fromEntries(
      (
        [
          'databaseUrl',
          'dataDir',
          'port',
          'host',
          'logLevel',
          'tokens',
          'tokensFile',
          'devTokenFile',
          'allowedOrigins',
          'demo',
          'demoAnswerDelayMs',
          'passivateAfterMs',
          'restore',
          'cluster',
          'leaseTtlMs',
          'nodeAddress',
          'retainFinished',
          'webhookUrl',
          'webhookSecret',
          'databaseWaitMs',
          'databaseConnectTimeoutMs',
          'databaseStatementTimeoutMs',
          'commitTimeoutMs',
          'shutdownTimeoutMs',
        ] satisfies (keyof ServeOptions)[]
      ).map((key) => [key, z.unknown().optional()]),
    ),
  })
  .strict();

function configError(file: string, problem: string, cause?: unknown): StewardError {
  return new StewardError(
    'ERR_CONFIG_INVALID',
    `${basename(file)}: ${problem}`,
    { file },
    cause === undefined ? undefined : { cause },
  );
}

/** The config file to use: `explicit` (must exist), else the first found in `cwd`. */
export async function findConfigFile(
  cwd: string,
  explicit: string | undefined,
): Promise<string | undefined> {
  const isFile = async (path: string) => (await stat(path).catch(() => undefined))?.isFile();
  if (explicit !== undefined) {
    const path = resolve(cwd, explicit);
    if (!(await isFile(path))) throw configError(path, `no such file (${path})`);
    return path;
  }
  for (const name of CONFIG_FILE_NAMES) {
    const path = resolve(cwd, name);
    if (await isFile(path)) return path;
  }
  return undefined;
}

/**
 * Imports a config file (TypeScript too, with no loader to install) and checks the shape of
 * its default export; throws `ERR_CONFIG_INVALID` with one line naming the file otherwise.
 */
export async function loadConfigFile(path: string): Promise<LoadedConfigFile> {
  if (isTypeScriptFile(path)) await enableTypeScriptImports();
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    if (isStewardError(error)) throw configError(path, error.message, error);
    // A compiler's message starts with a summary line; the next says where and what.
    const message = error instanceof Error ? error.message : String(error);
    const reason = message.split('\n').filter(Boolean).slice(0, 2).join(' ');
    throw configError(path, `cannot be loaded: ${reason}`, error);
  }
  if (!('default' in module) || !isObject(module.default)) {
    throw configError(
      path,
      'has no default export: write `export default defineConfig({ machines: [...] })`',
    );
  }
  const shape = ConfigFileShape.safeParse(module.default);
  if (!shape.success) {
    const issue = shape.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'the default export';
    const problem =
      issue?.code === 'unrecognized_keys'
        ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`
        : `${where}: ${issue?.message}`;
    throw configError(path, problem);
  }
  return { path, config: module.default as StewardConfig };
}

/** Wraps an error found in a config file's content (a machine refused, say) with its name. */
export function inConfigFile(path: string, error: unknown): unknown {
  return isStewardError(error) ? configError(path, error.message, error) : error;
}
