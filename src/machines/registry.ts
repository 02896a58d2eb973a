import type { AnyStateMachine } from 'xstate';
import { StewardError } from '../errors.ts';
import { findLifecycleTagProblems, findUnregisteredInvokes } from './lifecycle.ts';

/** A machine the runtime can host, named by id and version. */
export interface MachineDefinition {
  id: string;
  /** Bumped whenever the machine changes in a way stored snapshots must be migrated for. */
  version: number;
  machine: AnyStateMachine;
  description?: string;
}

/** The machines a runtime hosts, by id and version. */
export interface MachineRegistry {
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
 * registry.register({ id: 'reference', version: 1, machine: referenceSupervisor });
 */
export function createMachineRegistry(): MachineRegistry {
  const byKey = new Map<string, MachineDefinition>();
  const key = (id: string, version: number) => `${id}@${version}`;

  return {
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
