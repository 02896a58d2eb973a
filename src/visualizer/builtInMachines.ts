import type { AnyStateMachine } from 'xstate';
import { referenceSupervisor } from '../machines/referenceSupervisor.ts';

/**
 * The machines `steward visualize <id>` knows by id, without a file. Add a machine here
 * when it ships with Steward.
 */
export const BUILT_IN_MACHINES: Readonly<Record<string, AnyStateMachine>> = Object.freeze({
  reference: referenceSupervisor,
});
