import { describe, expect, it } from 'vitest';
import { type AnyStateMachine, createMachine, fromPromise, setup } from 'xstate';
import { isStewardError, type StewardError } from '../../src/errors.ts';
import { ReferenceInput, referenceSupervisor } from '../../src/machines/referenceSupervisor.ts';
import { createMachineRegistry } from '../../src/machines/registry.ts';

/** Registers `machine` in a fresh registry and returns the error it must be refused with. */
function refusal(machine: AnyStateMachine): StewardError {
  try {
    createMachineRegistry().register({ id: 'm', version: 1, machine });
  } catch (error) {
    expect(isStewardError(error, 'ERR_MACHINE_INVALID')).toBe(true);
    return error as StewardError;
  }
  throw new Error('expected register to refuse the machine');
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

const tagged = (tag: string) =>
  createMachine({ id: tag, initial: 'a', states: { a: { tags: [tag] } } });

describe('createMachineRegistry', () => {
  it('registers the reference supervisor', () => {
    const registry = createMachineRegistry();
    registry.register({
      id: 'reference',
      version: 1,
      machine: referenceSupervisor,
      input: ReferenceInput,
    });
    expect(registry.get('reference', 1).machine).toBe(referenceSupervisor);
    expect(registry.list()).toHaveLength(1);
  });

  it('refuses a machine with an untagged leaf state, naming the state', () => {
    const machine = createMachine({
      id: 'untagged',
      initial: 'a',
      states: { a: { tags: ['working'], on: { go: 'b' } }, b: {} },
    });
    const error = refusal(machine);
    expect(error.message).toContain('"untagged.b"');
    expect(error.message).toContain('no lifecycle tag');
    expect(error.message).not.toContain('"untagged.a"');
    expect(error.details.problems).toHaveLength(1);
  });

  it('refuses a state with two lifecycle tags, naming the state', () => {
    const machine = createMachine({
      id: 'double',
      initial: 'a',
      states: { a: { tags: ['working', 'paused', 'ui-only'] } },
    });
    const error = refusal(machine);
    expect(error.message).toContain('"double.a" has 2 lifecycle tags (working, paused)');
  });

  it('refuses a child state tagged inside a tagged parent, naming the child', () => {
    const machine = createMachine({
      id: 'nested',
      initial: 'outer',
      states: {
        outer: {
          tags: ['working'],
          initial: 'inner',
          states: { inner: { tags: ['waiting_for_user'] } },
        },
      },
    });
    const error = refusal(machine);
    expect(error.message).toContain(
      '"nested.outer.inner" has lifecycle tag "waiting_for_user" inside a state tagged "working"',
    );
  });

  it('accepts a tagged parent whose children carry only non-lifecycle tags', () => {
    const machine = createMachine({
      id: 'nested',
      initial: 'outer',
      states: {
        outer: { tags: ['working'], initial: 'inner', states: { inner: { tags: ['detail'] } } },
      },
    });
    expect(() =>
      createMachineRegistry().register({ id: 'nested', version: 1, machine }),
    ).not.toThrow();
  });

  it('refuses a parallel state that leaves its lifecycle tag to its regions', () => {
    const machine = createMachine({
      id: 'par',
      type: 'parallel',
      states: {
        left: { initial: 'a', states: { a: { tags: ['working'] } } },
        right: { initial: 'b', states: { b: { tags: ['waiting_for_user'] } } },
      },
    });
    const error = refusal(machine);
    expect(error.message).toContain('parallel state "par" must carry the lifecycle tag itself');
  });

  it('accepts a parallel state that carries the lifecycle tag itself', () => {
    const machine = createMachine({
      id: 'par',
      type: 'parallel',
      tags: ['working'],
      states: {
        left: { initial: 'a', states: { a: {} } },
        right: { initial: 'b', states: { b: {} } },
      },
    });
    expect(() =>
      createMachineRegistry().register({ id: 'par', version: 1, machine }),
    ).not.toThrow();
  });

  it('refuses a machine that invokes inline logic, naming the state', () => {
    const machine = createMachine({
      id: 'inline',
      initial: 'a',
      states: { a: { tags: ['working'], invoke: { src: fromPromise(async () => 1) } } },
    });
    const error = refusal(machine);
    expect(error.message).toContain('"inline.a" invokes inline logic');
  });

  it('accepts a machine that invokes logic registered by name in setup({ actors })', () => {
    const machine = setup({ actors: { fetchThing: fromPromise(async () => 1) } }).createMachine({
      id: 'named',
      initial: 'a',
      states: { a: { tags: ['working'], invoke: { src: 'fetchThing' } } },
    });
    expect(() =>
      createMachineRegistry().register({ id: 'named', version: 1, machine }),
    ).not.toThrow();
  });

  it('refuses to register the same id and version twice', () => {
    const registry = createMachineRegistry();
    registry.register({
      id: 'reference',
      version: 1,
      machine: referenceSupervisor,
      input: ReferenceInput,
    });
    const error = thrownBy(() =>
      registry.register({
        id: 'reference',
        version: 1,
        machine: referenceSupervisor,
        input: ReferenceInput,
      }),
    );
    expect(isStewardError(error, 'ERR_MACHINE_INVALID')).toBe(true);
    expect((error as Error).message).toContain('reference version 1 is already registered');
    registry.register({
      id: 'reference',
      version: 2,
      machine: referenceSupervisor,
      input: ReferenceInput,
    });
    expect(registry.list()).toHaveLength(2);
  });

  it('throws ERR_MACHINE_NOT_REGISTERED from get for an unknown version', () => {
    const registry = createMachineRegistry();
    registry.register({
      id: 'reference',
      version: 1,
      machine: referenceSupervisor,
      input: ReferenceInput,
    });
    const error = thrownBy(() => registry.get('reference', 2));
    expect(isStewardError(error, 'ERR_MACHINE_NOT_REGISTERED')).toBe(true);
    expect((error as StewardError).details).toEqual({ machineId: 'reference', machineVersion: 2 });
  });

  it('throws ERR_MACHINE_NOT_REGISTERED from latest for an unknown id', () => {
    const registry = createMachineRegistry();
    registry.register({
      id: 'reference',
      version: 1,
      machine: referenceSupervisor,
      input: ReferenceInput,
    });
    const error = thrownBy(() => registry.latest('nobody'));
    expect(isStewardError(error, 'ERR_MACHINE_NOT_REGISTERED')).toBe(true);
    expect((error as Error).message).toContain('nobody');
  });

  it('returns the highest registered version from latest, whatever the order of registration', () => {
    const registry = createMachineRegistry();
    const v2 = tagged('working');
    registry.register({ id: 'm', version: 1, machine: tagged('working') });
    registry.register({ id: 'm', version: 2, machine: v2 });
    registry.register({ id: 'm', version: 0, machine: tagged('working') });
    registry.register({ id: 'other', version: 9, machine: tagged('working') });
    expect(registry.latest('m').version).toBe(2);
    expect(registry.latest('m').machine).toBe(v2);
  });
});
