// Issue 14: a lazy restart rebuilds only the supervisors that must run now; every other
// unfinished one stays in its row, its questions asked again from the row, until its first
// touch or a timer of its comes due.
import { expect, it, onTestFinished } from 'vitest';
import { silentLogger } from '../../src/logger.ts';
import { listEvents } from '../../src/persistence/journalRepository.ts';
import { createSupervisorStore } from '../../src/persistence/supervisorStore.ts';
import type { CommittedChange } from '../../src/runtime/commit/committedChanges.ts';
import { wireHostParts } from '../../src/runtime/hostParts.ts';
import { LazyRestore } from '../../src/runtime/lazyRestore.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { spawnStored, testHost } from '../helpers/host.ts';
import { testRegistry } from '../helpers/testMachines.ts';
import { waitFor } from '../helpers/waitFor.ts';

describeEachEngine('lazy restore', (engine) => {
  async function database() {
    const db = await engine.openMigrated();
    onTestFinished(() => db.close());
    return db;
  }

  function lazyHost(db: Awaited<ReturnType<typeof database>>, lookaheadMs = 10_000) {
    const host = testHost(db, { lazyRestore: true, lazyRestoreLookaheadMs: lookaheadMs });
    onTestFinished(() => host.stop().then(() => undefined));
    return host;
  }

  it('rebuilds at start only those with work in flight or a timer due soon; the rest on first touch, counted then', async () => {
    const db = await database();
    const waiting = await spawnStored(db, 'survey', { count: 2 }, { owner: 'alice' });
    const later = await spawnStored(db, 'patient', undefined); // its timer: 60 s away
    const soon = await spawnStored(db, 'hasty', undefined); // its timer: 400 ms away
    const working = await spawnStored(db, 'worker', { tasks: [{ name: 'slow' }] });
    const first = testHost(db);
    const { id: invoking } = await first.spawn('invoker', undefined);
    await first.send(invoking, { type: 'go' });
    await first.stop();

    const host = lazyHost(db);
    const changes: CommittedChange[] = [];
    host.subscribe((change) => changes.push(change));
    expect(await host.restoreAll('restart')).toEqual({ restored: 3, failed: 0, deferred: 2 });
    // Rebuilt and counted at start. (In memory or not by now: the worker's cut task is
    // temporary, so the worker may already have completed and left memory.)
    for (const id of [soon, working, invoking]) {
      expect((await host.get(id)).restorationCount, id).toBe(1);
    }
    for (const id of [soon, invoking]) expect(host.local(id)).toBeDefined();
    for (const id of [waiting, later]) expect(host.local(id)).toBeUndefined();
    expect(host.deferred()).toBe(2);
    // Asked again from the row, without building the supervisor.
    const asked = changes.filter((c) => c.type === 'question.asked' && c.supervisorId === waiting);
    expect(asked.map((c) => (c.type === 'question.asked' ? c.question.id : ''))).toEqual([
      'q0',
      'q1',
    ]);
    expect((await host.get(waiting)).restorationCount).toBe(0);

    // The first touch restores it with the seed's steps, counted now; the answer goes in.
    expect(await host.answer(waiting, 'q0', 7)).toEqual({ version: 2, duplicate: false });
    expect(host.local(waiting)).toBeDefined();
    expect(await host.get(waiting)).toMatchObject({
      version: 2,
      restorationCount: 1,
      restorationSource: 'restart',
    });
    const kinds = (await listEvents(db, waiting)).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'restored')).toHaveLength(1);
    expect(host.deferred()).toBe(1);
    // Its questions were asked at the restart: the touch does not ask them again.
    expect(
      changes.filter((c) => c.type === 'question.asked' && c.supervisorId === waiting),
    ).toHaveLength(2);
    // A command touches too.
    await host.send(later, { type: 'hurry' });
    expect((await host.get(later)).stateValue).toBe('late');
  });

  it('restores a supervisor once when ten answers touch it at the same moment', async () => {
    const db = await database();
    const id = await spawnStored(db, 'survey', { count: 1 });
    const host = lazyHost(db);
    expect(await host.restoreAll('restart')).toMatchObject({ restored: 0, deferred: 1 });
    const results = await Promise.all(Array.from({ length: 10 }, () => host.answer(id, 'q0', 1)));
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    const kinds = (await listEvents(db, id)).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'restored')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'question_answered')).toHaveLength(1);
    expect((await host.get(id)).restorationCount).toBe(1);
  });

  it('shares one restore among touches that arrive before it is in service', async () => {
    const db = await database();
    const id = await spawnStored(db, 'survey', { count: 1 });
    const store = createSupervisorStore(db);
    const parts = wireHostParts({ store, registry: testRegistry() }, silentLogger, () => undefined);
    const lazy = new LazyRestore({
      store,
      restorer: parts.restorer,
      lives: parts.lives,
      passivated: () => false,
      lookaheadMs: 1_000,
      log: silentLogger,
    });
    const stored = await store.getSupervisor(id);
    if (!stored) throw new Error('no row');
    // All in one turn: none of them can see the supervisor in service yet.
    const touched = await Promise.all(Array.from({ length: 10 }, () => lazy.touch(stored)));
    expect(new Set(touched).size).toBe(1);
    expect(parts.lives.get(id)).toBe(touched[0]);
    const kinds = (await listEvents(db, id)).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'restored')).toHaveLength(1);
    await parts.writer.close();
    for (const live of parts.lives.clear()) live.stop();
  });

  it('brings a deferred supervisor in ahead of its timer, which fires on time', async () => {
    const db = await database();
    const spawnedAt = Date.now();
    const id = await spawnStored(db, 'sleepy', undefined); // due 2.5 s after the spawn
    const host = lazyHost(db, 1_000);
    expect(await host.restoreAll('restart')).toMatchObject({ restored: 0, deferred: 1 });
    expect(host.local(id)).toBeUndefined();
    await waitFor(
      'the deferred supervisor to be woken for its timer',
      () => host.local(id) !== undefined,
      {
        timeoutMs: 5_000,
      },
    );
    await waitFor('its timer to fire', async () => (await host.get(id)).stateValue === 'late', {
      timeoutMs: 5_000,
    });
    const activity = (await host.get(id)).currentActivity ?? '';
    expect(Number(activity.replace('late at ', '')) - spawnedAt).toBeGreaterThanOrEqual(2_500);
    expect((await host.get(id)).restorationCount).toBe(1);
  });

  it('finds a finished supervisor finished, and an unknown one not found, without restoring anything', async () => {
    const db = await database();
    const first = testHost(db);
    const { id } = await first.spawn('quiz', { count: 1 });
    await first.answer(id, 'q0', 1);
    await first.stop();
    const host = lazyHost(db);
    expect(await host.restoreAll('restart')).toEqual({ restored: 0, failed: 0, deferred: 0 });
    // Its last answer again: a duplicate, as without lazy restore.
    expect(await host.answer(id, 'q0', 1)).toMatchObject({ duplicate: true });
    await expect(host.send(id, { type: 'x' })).rejects.toMatchObject({
      code: 'ERR_SUPERVISOR_TERMINATED',
    });
    await expect(
      host.send('00000000-0000-4000-8000-000000000000', { type: 'x' }),
    ).rejects.toMatchObject({ code: 'ERR_SUPERVISOR_NOT_FOUND' });
    expect((await host.get(id)).restorationCount).toBe(0);
    expect(host.size()).toBe(0);
  });
});
