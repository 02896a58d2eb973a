import type { Logger } from '../../logger.ts';
import type { MachineRegistry } from '../../machines/registry.ts';
import type { SupervisorStore } from '../../persistence/supervisorStore.ts';
import { plan, restorablePages } from './restorePlan.ts';

/** What a restart would do with the stored supervisors of one machine version. */
export interface MigrationCheck {
  machineId: string;
  machineVersion: number;
  supervisors: number;
  /** Restored as stored. */
  restore: number;
  /** Upgraded by the migration chain, then restored. */
  migrate: number;
  /** Restored from a checkpoint: the stored state does not validate. */
  checkpoint: number;
  /** Started afresh: neither the stored state nor any checkpoint validates. */
  fresh: number;
  /** Cannot be restored at all (the machine is not registered under any version). */
  unrestorable: number;
  /** Up to five reasons found, for the report. */
  problems: string[];
}

/**
 * Dry run of a restart (`steward check-migration`): runs the registered machines'
 * migrations and validation against every stored, unfinished supervisor and counts, per
 * machine version, what restoring would do. Writes nothing.
 */
export async function checkMigrations(
  store: SupervisorStore,
  registry: MachineRegistry,
  log?: Logger,
): Promise<MigrationCheck[]> {
  const rows = new Map<string, MigrationCheck>();
  let seen = 0;
  for await (const page of restorablePages(store)) {
    for (const stored of page) {
      const key = `${stored.machineId}@${stored.machineVersion}`;
      let row = rows.get(key);
      if (!row) {
        row = {
          machineId: stored.machineId,
          machineVersion: stored.machineVersion,
          supervisors: 0,
          restore: 0,
          migrate: 0,
          checkpoint: 0,
          fresh: 0,
          unrestorable: 0,
          problems: [],
        };
        rows.set(key, row);
      }
      row.supervisors++;
      const note = (problem: string) => {
        if (row.problems.length < 5) row.problems.push(`${stored.id}: ${problem}`);
      };
      try {
        const chosen = await plan({ registry, store }, stored);
        if (chosen.from === 'stored') {
          if (chosen.upgraded.migratedFrom === null) row.restore++;
          else row.migrate++;
        } else {
          row[chosen.from]++;
          for (const violation of chosen.violations.slice(0, 1)) note(violation.message);
        }
      } catch (error) {
        row.unrestorable++;
        note(error instanceof Error ? error.message : String(error));
      }
    }
    seen += page.length;
    log?.info({ checked: seen }, 'checking stored supervisors');
  }
  return [...rows.values()].sort((a, b) =>
    a.machineId === b.machineId
      ? a.machineVersion - b.machineVersion
      : a.machineId < b.machineId
        ? -1
        : 1,
  );
}
