// Two hosts on one database, each holding half of the slices (the lease rows set here, as
// the lease keeper would): each acts only for its own supervisors, a host whose slice was
// taken writes nothing that wins and acks nothing, and the taker restores it as a failover.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isStewardError } from '../../src/errors.ts';
import { SLICE_COUNT, sliceOf } from '../../src/model/slices.ts';
import type { Database } from '../../src/persistence/database.ts';
import { listEvents } from '../../src/persistence/journalRepository.ts';
import type { CommittedChange } from '../../src/runtime/commit/committedChanges.ts';
import type { SupervisorHost } from '../../src/runtime/supervisorHost.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { testHost } from '../helpers/host.ts';
import { grantLeases, TestLeases } from '../helpers/leases.ts';
import { waitFor } from '../helpers/waitFor.ts';

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describeEachEngine('slice duties', (engine) => {
  let db: Database;
  let a: SupervisorHost;
  let b: SupervisorHost;
  const leasesA = new TestLeases('node-a');
  const leasesB = new TestLeases('node-b');
  const changesB: CommittedChange[] = [];
  beforeAll(async () => {
    db = await engine.openMigrated();
    await grantLeases(db, leasesA, range(0, SLICE_COUNT / 2), 1);
    await grantLeases(db, leasesB, range(SLICE_COUNT / 2, SLICE_COUNT), 1);
    a = testHost(db, { slices: leasesA });
    b = testHost(db, { slices: leasesB });
    b.subscribe((change) => void changesB.push(change));
  });
  afterAll(async () => {
    await Promise.all([a.stop(), b.stop()]);
    await db.close();
  });

  it('creates supervisors in its own slices and refuses calls for the others', async () => {
    const { id } = await a.spawn('survey', { count: 2 });
    expect(sliceOf(id)).toBeLessThan(SLICE_COUNT / 2);
    const error = await b.answer(id, 'q0', 1).catch((e: unknown) => e);
    expect(isStewardError(error, 'ERR_SUPERVISOR_MOVED')).toBe(true);
    expect((await a.answer(id, 'q0', 1)).duplicate).toBe(false);
  });

  it('acks nothing once its slice was taken, and the taker restores it as a failover', async () => {
    const { id, version } = await a.spawn('survey', { count: 2 });
    const slice = sliceOf(id);
    // node-b takes the slice (epoch 2) while node-a still believes it holds it.
    await grantLeases(db, leasesB, [slice], 2);
    const error = await a.answer(id, 'q0', 5).catch((e: unknown) => e);
    expect(isStewardError(error, 'ERR_SUPERVISOR_MOVED')).toBe(true);
    const row = await a.get(id);
    expect(row.version).toBe(version);
    expect(row.pendingQuestions.map((q) => q.id)).toEqual(['q0', 'q1']);
    expect((await listEvents(db, id)).some((e) => e.kind === 'question_answered')).toBe(false);
    // Refused by the database: node-a let it go at once.
    expect(a.local(id)).toBeUndefined();

    leasesA.epochs.delete(slice);
    const restored = await b.restoreAll('failover', [slice]);
    expect(restored.restored).toBeGreaterThanOrEqual(1);
    expect((await b.get(id)).restorationSource).toBe('failover');
    const resent = changesB.filter((c) => c.type === 'question.asked' && c.supervisorId === id);
    expect(resent.map((c) => (c.type === 'question.asked' ? c.question.id : ''))).toEqual([
      'q0',
      'q1',
    ]);
    expect((await b.answer(id, 'q0', 5)).duplicate).toBe(false);
  });

  it('gives a slice back cleanly: its writes flushed first, then it leaves memory', async () => {
    const { id } = await a.spawn('survey', { count: 3 });
    const slice = sliceOf(id);
    const answering = a.answer(id, 'q0', 7);
    // The answer is taken and its write queued before the slice goes.
    await waitFor('the answer to be captured', () => a.local(id)?.version === 2, { intervalMs: 1 });
    const given = a.slices?.giveBack([slice]);
    const refused = await a.answer(id, 'q1', 8).catch((e: unknown) => e);
    expect(isStewardError(refused, 'ERR_SUPERVISOR_MOVED')).toBe(true);
    expect((await answering).duplicate).toBe(false);
    expect(await given).toBeGreaterThanOrEqual(1);
    expect(a.local(id)).toBeUndefined();
    expect((await a.get(id)).pendingQuestions.map((q) => q.id)).toEqual(['q1', 'q2']);
  });
});
