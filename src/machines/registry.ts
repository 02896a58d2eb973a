import type { AnyActorLogic, AnyStateMachine } from 'xstate';
import type { z } from 'zod';
import { StewardError } from '../errors.ts';
import { findLifecycleTagProblems, findUnregisteredInvokes } from './lifecycle.ts';

/** A machine the runtime can host, named by id and version. */
export interface MachineDefinition {
  id: string;
  /** Bumped whenever the machine changes in a way stored snapshots must be migrated for. */
  version: number;
  machine: AnyStateMachine;
  description?: string;
  /**
   * The schema of the input a supervisor of this machine is spawned with. `spawn` checks
   * the input against the newest version's schema before anything is stored or started,
   * refusing a mismatch with `ERR_INPUT_INVALID` and zod's issues; the machine receives
   * the parsed value (defaults and transforms applied). Unset: any input is passed as is.
   *
   * @example
   * registry.register({ id: 'mine', version: 1, machine, input: z.object({ goal: z.string() }) });
   */
  input?: z.ZodType;
  /**
   * Checks of the machine's own that a stored snapshot must pass before it is restored;
   * each returned line is a violation. Restoration falls back to a checkpoint otherwise.
   */
  invariants?: (snapshot: { value: unknown; context: unknown }) => string[];
  /**
   * Upgrades a persisted snapshot of the previous version (`version - 1`) to this one: rename
   * states in `value` and `historyValue`, fill new context fields, rename children. Runs on
   * plain JSON before XState sees it; chained over several versions when needed.
   */
  migrateFrom?: (snapshot: Record<string, unknown>) => Record<string, unknown>;
}

/**
 * The input every task run receives: its own input and what identifies the run. Pass
 * `idempotencyKey` to the outside world: a run may happen more than once (after a crash,
 * a restart), and the same key means the same run.
 */
export interface TaskRunInput<TInput = unknown> {
  input: TInput;
  taskId: string;
  attempt: number;
  idempotencyKey: string;
  supervisorId: string;
}

/** The machines a runtime hosts, by id and version, and the task logic they spawn, by name. */
export interface MachineRegistry {
  /**
   * Registers the logic of a task by name: any XState actor logic (a promise, a callback,
   * a machine) whose input is a `TaskRunInput`. A promise task gets xstate's abort signal,
   * fired when the task is cancelled.
   */
  registerTask(name: string, logic: AnyActorLogic): void;
  /** The logic of a task, or undefined when none is registered under that name. */
  task(name: string): AnyActorLogic | undefined;
  /** Checks and adds a machine; refuses one with untagged states or inline invoked logic. */
  register(definition: MachineDefinition): void;
  /** The exact version, or `ERR_MACHINE_NOT_REGISTERED`. */
  get(id: string, version: number): MachineDefinition;
  /** The highest registered version of a machine, or `ERR_MACHINE_NOT_REGISTERED`. */
  latest(id: string): MachineDefinition;
  list(): MachineDefinition[];
}

/**
 * Creates an empty registry.
 *
 * @example
 * const registry = createMachineRegistry();
 * registry.register({
 *   id: 'reference',
 *   version: 1,
 *   machine: referenceSupervisor,
 *   input: ReferenceInput,
 * });
 */
export function createMachineRegistry(): MachineRegistry {
  const byKey = new Map<string, MachineDefinition>();
  const tasks = new Map<string, AnyActorLogic>();
  const key = (id: string, version: number) => `${id}@${version}`;

  return {
    registerTask(name, logic) {
      if (!/^[A-Za-z0-9._-]{1,100}$/.test(name) || tasks.has(name)) {
        throw new StewardError(
          'ERR_MACHINE_INVALID',
          `task name "${name}" is invalid or already registered`,
        );
      }
      tasks.set(name, logic);
    },

    task: (name) => tasks.get(name),

    register(definition) {
      if (!/^[A-Za-z0-9._-]{1,100}$/.test(definition.id)) {
        throw new StewardError(
          'ERR_MACHINE_INVALID',
          `machine id "${definition.id}" must be 1-100 letters, digits, . _ or -`,
        );
      }
      if (!Number.isInteger(definition.version) || definition.version < 0) {
        throw new StewardError(
          'ERR_MACHINE_INVALID',
          `machine ${definition.id}: version must be a non-negative integer`,
        );
      }
      if (byKey.has(key(definition.id, definition.version))) {
        throw new StewardError(
          'ERR_MACHINE_INVALID',
          `machine ${definition.id} version ${definition.version} is already registered`,
        );
      }
      const problems = [
        ...findLifecycleTagProblems(definition.machine),
        ...findUnregisteredInvokes(definition.machine),
      ];
      if (problems.length > 0) {
        throw new StewardError(
          'ERR_MACHINE_INVALID',
          `machine ${definition.id} version ${definition.version} cannot be hosted: ${problems.join('; ')}`,
          { problems },
        );
      }
      byKey.set(key(definition.id, definition.version), definition);
    },

    get(id, version) {
      const found = byKey.get(key(id, version));
      if (!found) {
        throw new StewardError(
          'ERR_MACHINE_NOT_REGISTERED',
          `machine ${id} version ${version} is not registered`,
          { machineId: id, machineVersion: version },
        );
      }
      return found;
    },

    latest(id) {
      let best: MachineDefinition | undefined;
      for (const definition of byKey.values()) {
        if (definition.id === id && (!best || definition.version > best.version)) best = definition;
      }
      if (!best) {
        throw new StewardError('ERR_MACHINE_NOT_REGISTERED', `machine ${id} is not registered`, {
          machineId: id,
        });
      }
      return best;
    },

    list() {
      return [...byKey.values()];
    },
  };
}

/**
 * The input a supervisor of `definition` starts with: parsed by the machine's `input`
 * schema (defaults and transforms applied), or as given when it declares none. A mismatch
 * is `ERR_INPUT_INVALID`, naming the machine and the first issue, with zod's issues.
 *
 * @example
 * const input = parseInput(registry.latest('reference'), { goal: 'ship', steps: ['build'] });
 */
export function parseInput(definition: MachineDefinition, input: unknown): unknown {
  if (!definition.input) return input;
  const parsed = definition.input.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new StewardError(
    'ERR_INPUT_INVALID',
    `machine ${definition.id} version ${definition.version} refuses its input at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    { issues: parsed.error.issues },
  );
}
