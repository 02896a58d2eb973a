// The config file `steward serve` gets in bench/million.ts: the reference machine, as the
// demo registers it, so the seeded rows are restored by the machine that wrote them. No
// other option: everything else comes from the flags and environment the bench sets.
import { defineConfig } from '../src/configFile.ts';
import { ReferenceInput, referenceSupervisor } from '../src/machines/referenceSupervisor.ts';
import type { MachineDefinition } from '../src/machines/registry.ts';

/** The reference supervisor, registered as `createRegistry({ demo: true })` does. */
export const millionMachineDefinition: MachineDefinition = {
  id: 'reference',
  version: 1,
  machine: referenceSupervisor,
  input: ReferenceInput,
};

export default defineConfig({ machines: [millionMachineDefinition] });
