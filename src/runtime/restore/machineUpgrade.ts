import { isStewardError } from '../../errors.ts';
import type { MachineDefinition, MachineRegistry } from '../../machines/registry.ts';
import type { StateViolation } from '../../model/restoration.ts';

/** A stored snapshot made ready for the machine version it will be restored into. */
export interface Upgraded {
  definition: MachineDefinition;
  snapshot: unknown;
  /** The version it was written by, when a migration chain upgraded it. */
  migratedFrom: number | null;
}

/** The registry's answer, or `undefined` where it says the machine is not registered. */
function registered(lookup: () => MachineDefinition): MachineDefinition | undefined {
  try {
    return lookup();
  } catch (error) {
    if (isStewardError(error, 'ERR_MACHINE_NOT_REGISTERED')) return undefined;
    throw error;
  }
}

/**
 * Brings a snapshot written by `version` of a machine to the newest registered version
 * through the registered `migrateFrom` chain; restores it as written when no newer version
 * is registered. A gap in the chain, or a version registered nowhere, is a violation.
 */
export function upgradeSnapshot(
  registry: MachineRegistry,
  machineId: string,
  version: number,
  snapshot: unknown,
): Upgraded | StateViolation {
  const exact = registered(() => registry.get(machineId, version));
  const latest = registered(() => registry.latest(machineId));
  if (!latest) {
    return { code: 'machine_not_registered', message: `machine ${machineId} is not registered` };
  }
  if (latest.version <= version) {
    if (exact) return { definition: exact, snapshot, migratedFrom: null };
    return {
      code: 'machine_not_registered',
      message: `machine ${machineId} version ${version} is not registered (newest: ${latest.version})`,
    };
  }
  let current = structuredClone(snapshot) as Record<string, unknown>;
  for (let next = version + 1; next <= latest.version; next++) {
    const step = registered(() => registry.get(machineId, next));
    if (!step?.migrateFrom) {
      if (exact) return { definition: exact, snapshot, migratedFrom: null };
      return {
        code: 'migration_missing',
        message: `machine ${machineId}: no migration from version ${next - 1} to ${next}`,
      };
    }
    try {
      current = step.migrateFrom(current);
    } catch (error) {
      return {
        code: 'migration_failed',
        message: `machine ${machineId}: migration to version ${next} threw: ${error instanceof Error ? error.message : String(error)}`,
      };
    }
  }
  return { definition: latest, snapshot: current, migratedFrom: version };
}
