import { expect, it } from 'vitest';
import { listEvents } from '../../src/persistence/journalRepository.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { useHost } from '../helpers/host.ts';

const eventually = <T>(read: () => T | Promise<T>, timeout = 10_000) =>
  expect.poll(read, { timeout, interval: 20 });

describeEachEngine('passivation', (engine) => {
  const fixture = useHost(engine, { passivateAfterMs: 150 });

  it('drops idle supervisors from memory and brings each back for its next answer, counting no restore', async () => {
    const before = fixture.host.passivated();
    const ids = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const { id } = await fixture.host.spawn('survey', { count: 2 }, { owner: 'alice' });
        return id;
      }),
    );
    await eventually(() => fixture.host.passivated() - before).toBe(50);
    expect(ids.every((id) => fixture.host.local(id) === undefined)).toBe(true);
    // Still running here as far as callers can tell: its last commit is its row's (kept
    // there only, so a passivated supervisor costs no copy of its questions in memory).
    expect(fixture.host.committed(ids[0] as string)).toBeUndefined();
    expect(await fixture.host.get(ids[0] as string)).toMatchObject({ version: 1, owner: 'alice' });

    const results = await Promise.all(ids.map((id) => fixture.host.answer(id, 'q0', 4)));
    expect(results.every((r) => r.version === 2 && !r.duplicate)).toBe(true);
    for (const id of ids.slice(0, 5)) {
      const row = await fixture.host.get(id);
      expect(row).toMatchObject({ version: 2, restorationCount: 0, state: 'waiting_for_user' });
      expect(row.pendingQuestions.map((q) => q.id)).toEqual(['q1']);
      const kinds = (await listEvents(fixture.db, id)).map((e) => e.kind);
      expect(kinds.filter((k) => k === 'question_answered')).toHaveLength(1);
      expect(kinds).not.toContain('restored');
    }
    // Idle again, out again.
    await eventually(() => fixture.host.passivated() - before).toBe(50);
  });

  it('applies one of ten simultaneous answers to a passivated supervisor, from one rebuilt actor', async () => {
    const { id } = await fixture.host.spawn('survey', { count: 1 }, { owner: 'alice' });
    await eventually(() => fixture.host.local(id)).toBeUndefined();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => fixture.host.answer(id, 'q0', 1)),
    );
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    const answered = (await listEvents(fixture.db, id)).filter(
      (e) => e.kind === 'question_answered',
    );
    expect(answered).toHaveLength(1);
    expect(await fixture.host.get(id)).toMatchObject({ version: 2, pendingQuestions: [] });
  });

  it('wakes a passivated supervisor when its delayed event is due', async () => {
    const spawnedAt = Date.now();
    const { id } = await fixture.host.spawn('sleepy', undefined);
    // Passivated well before its 2.5 s deadline…
    await eventually(() => fixture.host.local(id), 2_000).toBeUndefined();
    expect((await fixture.host.get(id)).stateValue).toBe('waiting');
    // …and back at it, to take the transition.
    await eventually(async () => (await fixture.host.get(id)).stateValue).toBe('late');
    const activity = (await fixture.host.get(id)).currentActivity ?? '';
    expect(Number(activity.replace('late at ', '')) - spawnedAt).toBeGreaterThanOrEqual(2_500);
  });

  it('keeps a supervisor in memory while its task or invoked actor runs', async () => {
    const withTask = await fixture.host.spawn('worker', { tasks: [{ name: 'slow' }] });
    const invoking = await fixture.host.spawn('invoker', undefined);
    await fixture.host.send(invoking.id, { type: 'go' });
    const idle = await fixture.host.spawn('patient', undefined);
    await eventually(() => fixture.host.local(idle.id)).toBeUndefined();
    expect(fixture.host.local(withTask.id)).toBeDefined();
    expect(fixture.host.local(invoking.id)).toBeDefined();
    await fixture.host.cancel(withTask.id);
  });

  it('is not restored a second time by restoreAll, and a manual restore says it runs here', async () => {
    const { id } = await fixture.host.spawn('patient', undefined);
    await eventually(() => fixture.host.local(id)).toBeUndefined();
    expect(await fixture.host.restoreAll('manual')).toMatchObject({ restored: 0, failed: 0 });
    await expect(fixture.host.restore(id)).rejects.toMatchObject({ code: 'ERR_SUPERVISOR_EXISTS' });
    expect(await fixture.host.heartbeat()).toBeGreaterThanOrEqual(1);
    expect((await fixture.host.get(id)).lastHeartbeat).not.toBeNull();
    await fixture.host.send(id, { type: 'hurry' });
    expect((await fixture.host.get(id)).stateValue).toBe('late');
  });
});
