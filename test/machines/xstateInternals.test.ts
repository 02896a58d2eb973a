// Pins what src/machines/xstateInternals.ts takes from XState's private API to the installed
// release: after an upgrade of xstate, a failure here names the piece that changed.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createActor, fromCallback, setup } from 'xstate';
import {
  cancelScheduledEvent,
  forceStop,
  forceStopChildren,
  parentOf,
  rootOf,
  scheduledEvents,
  scheduleEvent,
  XSTATE_VERSION,
} from '../../src/machines/xstateInternals.ts';

const waiting = setup({}).createMachine({
  id: 'waiting',
  initial: 'idle',
  states: {
    idle: { after: { 60000: 'late' }, on: { ping: 'pinged' } },
    late: {},
    pinged: {},
  },
});

describe('the XState internals Steward relies on', () => {
  it(`are those of xstate ${XSTATE_VERSION}, the release the adapter was written for`, async () => {
    const installed = JSON.parse(
      await readFile(new URL('../../node_modules/xstate/package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    expect(
      installed.version,
      'xstate was upgraded: check every function of src/machines/xstateInternals.ts against it, then update XSTATE_VERSION',
    ).toBe(XSTATE_VERSION);
  });

  it('keep delayed events in the system snapshot (_scheduledEvents) with a start and a delay', () => {
    const before = Date.now();
    const actor = createActor(waiting).start();
    const [event, ...others] = scheduledEvents(actor);
    expect(others, 'one `after` timer, one scheduled event').toEqual([]);
    expect(event?.dueAt, '_scheduledEvents lost startedAt or delay').toBeGreaterThanOrEqual(
      before + 60_000,
    );
    expect(event?.dueAt).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(event?.source).toBe(actor);
    expect(event?.target).toBe(actor);
    actor.stop();
  });

  it('re-arm a delayed event through system.scheduler, cancelled by its id like their own', async () => {
    const actor = createActor(waiting).start();
    const [own] = scheduledEvents(actor);
    scheduleEvent(actor, {
      source: actor,
      target: actor,
      event: { type: 'ping' },
      delay: 10,
      id: 'steward.test',
    });
    expect(scheduledEvents(actor).map((e) => e.id)).toContain('steward.test');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(actor.getSnapshot().value, 'system.scheduler.schedule did not deliver').toBe('pinged');
    // Leaving `idle` cancelled the `after` timer it scheduled, by its id.
    expect(scheduledEvents(actor).map((e) => e.id)).not.toContain(own?.id);
    actor.stop();
  });

  it('link a child to its parent (_parent), so its root is the supervisor', () => {
    const parent = setup({ actors: { forever: fromCallback(() => () => {}) } }).createMachine({
      id: 'parent',
      invoke: { id: 'child', src: 'forever' },
    });
    const actor = createActor(parent).start();
    const child = actor.getSnapshot().children.child;
    if (!child) throw new Error('the invoked child is missing');
    expect(parentOf(child)).toBe(actor);
    expect(parentOf(actor)).toBeUndefined();
    expect(rootOf(child)).toBe(actor);
    actor.stop();
  });

  it('stop a child of an errored parent only through the internal _stop', () => {
    let childStopped = false;
    const parent = setup({
      actors: {
        forever: fromCallback(() => () => {
          childStopped = true;
        }),
      },
      actions: {
        explode: () => {
          throw new Error('boom');
        },
      },
    }).createMachine({
      id: 'parent',
      invoke: { id: 'child', src: 'forever' },
      on: { boom: { actions: 'explode' } },
    });
    const actor = createActor(parent);
    actor.subscribe({ error: () => {} });
    actor.start();
    const child = actor.getSnapshot().children.child;
    if (!child) throw new Error('the invoked child is missing');
    actor.send({ type: 'boom' });
    expect(actor.getSnapshot().status).toBe('error');
    expect(childStopped, 'an errored parent now stops its children: forceStop may go').toBe(false);
    forceStop(child);
    expect(childStopped).toBe(true);
  });

  it('stop every child of an errored parent through forceStopChildren', () => {
    const stopped: string[] = [];
    const parent = setup({
      actors: {
        forever: fromCallback(({ input }: { input: string }) => () => {
          stopped.push(input);
        }),
      },
      actions: {
        explode: () => {
          throw new Error('boom');
        },
      },
    }).createMachine({
      id: 'parent',
      invoke: [
        { id: 'a', src: 'forever', input: 'a' },
        { id: 'b', src: 'forever', input: 'b' },
      ],
      on: { boom: { actions: 'explode' } },
    });
    const actor = createActor(parent);
    actor.subscribe({ error: () => {} });
    actor.start();
    actor.send({ type: 'boom' });
    expect(stopped).toEqual([]);
    forceStopChildren(actor);
    expect(stopped.sort()).toEqual(['a', 'b']);
  });

  it('cancel a delayed event through system.scheduler by its source and id', async () => {
    const actor = createActor(waiting).start();
    scheduleEvent(actor, {
      source: actor,
      target: actor,
      event: { type: 'ping' },
      delay: 10,
      id: 'steward.test',
    });
    cancelScheduledEvent(actor, actor, 'steward.test');
    expect(scheduledEvents(actor).map((e) => e.id)).not.toContain('steward.test');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(actor.getSnapshot().value, 'system.scheduler.cancel did not cancel').toBe('idle');
    // Cancelling what is not scheduled is nothing.
    cancelScheduledEvent(actor, actor, 'steward.none');
    actor.stop();
  });
});
