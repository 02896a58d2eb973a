// Finds the machine `steward visualize` was asked for: a built-in by id, or an export of
// a module file. Every way this can go wrong is the caller's input, reported in one line.
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyStateMachine } from 'xstate';
import { BUILT_IN_MACHINES } from './builtInMachines.ts';

/** Bad input to `steward visualize`: the command exits with 2 and prints the message. */
export class VisualizeInputError extends Error {
  override readonly name = 'VisualizeInputError';
}

const MODULE_FILE = /\.(ts|mts|cts|js|mjs|cjs)$/;

/** True when the argument names a file rather than a built-in machine id. */
export function isFileArgument(spec: string): boolean {
  return MODULE_FILE.test(spec) || spec.includes('/') || spec.includes('\\');
}

/**
 * The machine named by `spec`: a machine id (a config file's, or a built-in such as
 * `reference`) or a module file. From a file
 * it takes the export named `exportName`, else the default export, else the only export
 * that is an XState machine. Throws `VisualizeInputError` saying what is wrong otherwise.
 *
 * @example
 * const machine = await loadMachine('src/machines/mySupervisor.ts', { exportName: 'fetcher' });
 */
export async function loadMachine(
  spec: string,
  options: {
    exportName?: string;
    cwd?: string;
    /** The machines an id names: a config file's, else the built-in ones. */
    machines?: Readonly<Record<string, AnyStateMachine>>;
  } = {},
): Promise<AnyStateMachine> {
  if (!isFileArgument(spec)) {
    const machines = options.machines ?? BUILT_IN_MACHINES;
    const byId = machines[spec];
    if (byId) return byId;
    const known = Object.keys(machines).join(', ') || 'none';
    const kind = options.machines ? 'a machine id of the config' : 'a built-in id';
    throw new VisualizeInputError(
      `unknown machine "${spec}": give a module file (.ts, .js, .mjs) or ${kind} (${known})`,
    );
  }
  const path = resolve(options.cwd ?? process.cwd(), spec);
  const found = await stat(path).catch(() => undefined);
  if (!found?.isFile()) throw new VisualizeInputError(`no such file: ${path}`);

  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    // A compiler's message starts with a summary line; the second line says where and what.
    const message = error instanceof Error ? error.message : String(error);
    const reason = message.split('\n').filter(Boolean).slice(0, 2).join(' ');
    throw new VisualizeInputError(`cannot load ${spec}: ${reason}`);
  }
  return pickMachine(module, spec, options.exportName);
}

function pickMachine(
  module: Record<string, unknown>,
  spec: string,
  exportName: string | undefined,
): AnyStateMachine {
  const exports = exportsOf(module);
  if (exportName !== undefined) {
    const value = exports.get(exportName);
    if (isMachine(value)) return value;
    const problem = exports.has(exportName) ? 'is not an XState machine' : 'does not exist';
    throw new VisualizeInputError(`export "${exportName}" of ${spec} ${problem}`);
  }
  const fallback = exports.get('default');
  if (isMachine(fallback)) return fallback;
  const machines = [...exports].filter(([, value]) => isMachine(value));
  const [only] = machines;
  if (machines.length === 1 && only) return only[1] as AnyStateMachine;
  if (machines.length === 0) throw new VisualizeInputError(`${spec} exports no XState machine`);
  const names = machines.map(([name]) => name).join(', ');
  throw new VisualizeInputError(
    `${spec} exports several machines (${names}): pick one with --export NAME`,
  );
}

/**
 * A module's exports by name. A CommonJS module (a .ts file outside a `"type": "module"`
 * package, say) may arrive with its exports only under `default`; they count too.
 */
function exportsOf(module: Record<string, unknown>): Map<string, unknown> {
  const exports = new Map(Object.entries(module));
  const inner = module.default;
  if (typeof inner === 'object' && inner !== null && !isMachine(inner)) {
    for (const [name, value] of Object.entries(inner)) {
      if (!exports.has(name)) exports.set(name, value);
    }
  }
  return exports;
}

/**
 * Recognises a machine by its shape, not `instanceof`: a file may bring its own copy of
 * xstate, whose classes are not ours.
 */
function isMachine(value: unknown): value is AnyStateMachine {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.root === 'object' &&
    candidate.root !== null &&
    typeof candidate.getStateNodeById === 'function' &&
    typeof candidate.transition === 'function' &&
    typeof candidate.implementations === 'object'
  );
}
