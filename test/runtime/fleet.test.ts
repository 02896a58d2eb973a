import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/persistence/database.ts';
import { createSupervisorStore } from '../../src/persistence/supervisorStore.ts';
import { createSupervisorHost, type SupervisorHost } from '../../src/runtime/supervisorHost.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { testRegistry } from '../helpers/testMachines.ts';

describeEachEngine('a fleet of supervisors', (engine) => {
  let db: Database;

  beforeAll(async () => {
    db = await engine.openMigrated({ max: 8 });
  });
  afterAll(() => db.close());

  it('stores, after stop(), exactly the version and snapshot of every actor: 1,000 supervisors × 10 concurrent answers', async () => {
    const host = createSupervisorHost({
      store: createSupervisorStore(db),
      registry: testRegistry(),
      heartbeatIntervalMs: 0,
      commitTimeoutMs: 60_000,
    });
    const spawned = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) =>
        host.spawn('survey', { count: 10 }, { owner: `team-${i % 7}` }),
      ),
    );
    const ids = spawned.map((s) => s.id);
    // Every supervisor gets its 10 answers at once; 100 supervisors at a time.
    for (let i = 0; i < ids.length; i += 100) {
      await Promise.all(
        ids
          .slice(i, i + 100)
          .flatMap((id) => Array.from({ length: 10 }, (_, q) => host.answer(id, `q${q}`, q))),
      );
    }
    const local = new Map(ids.map((id) => [id, host.local(id)]));
    await host.stop();

    const { rows } = await db.query<{ id: string; version: string; snapshot: unknown }>(
      'SELECT id, version, snapshot FROM supervisor_states WHERE id = ANY ($1::uuid[])',
      [ids],
    );
    expect(rows).toHaveLength(1_000);
    for (const row of rows) {
      const mine = local.get(row.id);
      expect(Number(row.version)).toBe(mine?.version);
      expect(row.snapshot).toEqual(mine?.snapshot);
    }
    // Each supervisor: 1 spawn + 10 answers, and none coalesced away by the host itself.
    expect(rows.every((row) => Number(row.version) === 11)).toBe(true);
    const { rows: answered } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM supervisor_events
       WHERE kind = 'question_answered' AND supervisor_id = ANY ($1::uuid[])`,
      [ids],
    );
    expect(answered[0]?.n).toBe(10_000);
    const sample = (await host.get(ids[0] as string)).snapshot as {
      context: { answers: Record<string, number> };
    };
    expect(Object.keys(sample.context.answers).sort()).toEqual(
      Array.from({ length: 10 }, (_, q) => `q${q}`).sort(),
    );
  });

  it('lists by lifecycle state, state value, owner, questions, progress and time in state', async () => {
    const host: SupervisorHost = createSupervisorHost({
      store: createSupervisorStore(db),
      registry: testRegistry(),
      heartbeatIntervalMs: 0,
    });
    const owner = `lister-${Date.now()}`;
    const waiting = await host.spawn('reference', { goal: 'a', steps: ['x'] }, { owner });
    const running = await host.spawn('reference', { goal: 'b', steps: ['x'] }, { owner });
    await host.answer(running.id, 'approve-plan', true);
    const paused = await host.spawn('reference', { goal: 'c', steps: ['x'] }, { owner });
    await host.pause(paused.id);
    const ids = (filter: Parameters<SupervisorHost['list']>[0]) =>
      host.list({ owner, ...filter }).then((list) => list.map((s) => s.id).sort());

    expect(await ids({})).toEqual([waiting.id, running.id, paused.id].sort());
    expect(await ids({ state: 'waiting_for_user' })).toEqual([waiting.id]);
    expect(await ids({ state: ['paused', 'waiting_for_tasks'] })).toEqual(
      [running.id, paused.id].sort(),
    );
    expect(await ids({ stateValue: 'active.executing' })).toEqual([running.id]);
    expect(await ids({ stateValue: 'active.executing.running' })).toEqual([running.id]);
    expect(await ids({ stateValue: 'active.exec' })).toEqual([]);
    // Pausing keeps the question pending: it is asked again once resumed.
    expect(await ids({ hasPendingQuestions: true })).toEqual([waiting.id, paused.id].sort());
    expect(await ids({ hasPendingQuestions: false })).toEqual([running.id]);
    expect(await ids({ progressMin: 10, progressMax: 10 })).toEqual(
      [waiting.id, running.id, paused.id].sort(),
    );
    expect(await ids({ progressMin: 11 })).toEqual([]);
    expect(await ids({ stuckForMs: 60_000 })).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await ids({ stuckForMs: 20, state: 'paused' })).toEqual([paused.id]);
    const firstPage = await host.list({ owner, limit: 2 });
    const secondPage = await host.list({ owner, limit: 2, afterId: firstPage[1]?.id as string });
    expect([...firstPage, ...secondPage].map((s) => s.id)).toEqual(
      [waiting.id, running.id, paused.id].sort(),
    );
    await host.stop();
  });
});
