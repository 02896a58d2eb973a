// The fleet filters are served by indexes: EXPLAIN on 100,000 supervisors.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LifecycleState } from '../../src/model/supervisor.ts';
import type { Database } from '../../src/persistence/database.ts';
import {
  type FleetFilter,
  fleetQuery,
  getSupervisorsWithPendingQuestions,
  listSupervisors,
} from '../../src/persistence/fleetQueries.ts';
import { describeEachEngine, describePostgresOnly } from '../helpers/engines.ts';
import { question, saveRows, supervisorWrite } from '../helpers/fixtures.ts';

describeEachEngine('supervisors with pending questions', (engine) => {
  let db: Database;
  beforeAll(async () => {
    db = await engine.openMigrated();
  });
  afterAll(() => db.close());

  it('lists only supervisors with pending questions, by owner, in id order', async () => {
    const asking = supervisorWrite({ owner: 'qowner', pendingQuestions: [question('x')] });
    const quiet = supervisorWrite({ owner: 'qowner' });
    const otherOwner = supervisorWrite({ owner: 'else', pendingQuestions: [question('y')] });
    await saveRows(db, asking, quiet, otherOwner);
    const listed = await getSupervisorsWithPendingQuestions(db, { owner: 'qowner' });
    expect(listed.map((s) => s.id)).toEqual([asking.id]);
    const all = (await getSupervisorsWithPendingQuestions(db)).map((s) => s.id);
    expect(all).toEqual([asking.id, otherOwner.id].sort());
    // A filter that asks for the opposite is overruled: this is the pending-questions list.
    const overruled = await getSupervisorsWithPendingQuestions(db, { hasPendingQuestions: false });
    expect(overruled.map((s) => s.id)).toEqual(all);
  });
});

describeEachEngine('fleet in attention order', (engine) => {
  let db: Database;
  beforeAll(async () => {
    db = await engine.openMigrated();
  });
  afterAll(() => db.close());

  /** One supervisor per row: its state, and how many minutes ago it entered it. */
  async function fleet(owner: string, rows: Array<[LifecycleState, number, string?]>) {
    const writes = rows.map(([state, , title]) =>
      supervisorWrite({
        owner,
        state,
        ...(title ? { snapshot: { status: 'active', value: 'a', context: { title } } } : {}),
      }),
    );
    await saveRows(db, ...writes);
    for (const [i, [, minutes]] of rows.entries()) {
      await db.query(
        `UPDATE supervisor_states SET state_entered_at = now() - make_interval(mins => $2) WHERE id = $1`,
        [writes[i]?.id, minutes],
      );
    }
    return writes.map((w) => w.id);
  }

  it('puts who waits for a person first, then failed, running, finished; pages keep the order', async () => {
    const ids = await fleet('attn', [
      ['completed', 50], // 0
      ['working', 30], // 1
      ['waiting_for_user', 5], // 2
      ['failed', 10], // 3
      ['cancelled', 5], // 4
      ['waiting_for_user', 40], // 5
      ['paused', 60], // 6
      ['initializing', 1], // 7
      ['waiting_for_tasks', 20], // 8
      ['failed', 70], // 9
    ]);
    const expected = [5, 2, 9, 3, 6, 1, 8, 7, 4, 0].map((i) => ids[i]);
    const order = async (filter: FleetFilter) =>
      (await listSupervisors(db, { owner: 'attn', order: 'attention', ...filter })).map(
        (s) => s.id,
      );
    expect(await order({})).toEqual(expected);
    // Three at a time, each page after the last one's final supervisor: the same order.
    const paged: string[] = [];
    for (let afterId: string | undefined; ; ) {
      const page = await order({ limit: 3, ...(afterId ? { afterId } : {}) });
      paged.push(...page);
      if (page.length < 3) break;
      afterId = page.at(-1);
    }
    expect(paged).toEqual(expected);
    expect(await order({ state: ['failed', 'completed'] })).toEqual([9, 3, 0].map((i) => ids[i]));
  });

  it('finds supervisors by words in their title, owner, machine or state, beyond any page', async () => {
    const ids = await fleet('finder', [
      ['working', 3, 'Quarterly Report for ACME'],
      ['waiting_for_user', 2, 'Hire a designer'],
      ['completed', 1, 'ACME invoice 100%'],
    ]);
    const found = async (search: string, order: 'id' | 'attention' = 'attention') =>
      (await listSupervisors(db, { owner: 'finder', search, order })).map((s) => s.id).sort();
    expect(await found('acme')).toEqual([ids[0], ids[2]].sort());
    expect(await found('acme report')).toEqual([ids[0]]);
    expect(await found('WAITING_for')).toEqual([ids[1]]);
    expect(await found('finder reference', 'id')).toEqual([...ids].sort());
    // A LIKE wildcard in a word is matched as itself.
    expect(await found('100%')).toEqual([ids[2]]);
    expect(await found('10_%')).toEqual([]);
    expect(await found((ids[1] as string).slice(0, 8))).toEqual([ids[1]]);
  });
});

/**
 * Each filter, and its own index. The planner may instead walk the primary key in id
 * order and stop at the page's LIMIT when it expects matches to be dense; both are index
 * scans, and which one it picks depends on sampled statistics. A sequential scan never is.
 */
const FILTERS: Array<[string, FleetFilter, string]> = [
  ['lifecycle state', { state: 'paused' }, 'supervisor_states_state_idx'],
  ['several lifecycle states', { state: ['paused', 'failed'] }, 'supervisor_states_state_idx'],
  ['state value', { stateValue: 'active.executing.running' }, 'supervisor_states_state_value_idx'],
  ['tag', { tag: 'urgent' }, 'supervisor_states_tags_idx'],
  ['owner', { owner: 'owner-42' }, 'supervisor_states_owner_idx'],
  ['machine', { machineId: 'rare' }, 'supervisor_states_machine_idx'],
  [
    'has pending questions',
    { hasPendingQuestions: true },
    'supervisor_states_pending_questions_idx',
  ],
  [
    'stuck in a state',
    { state: 'waiting_for_user', stuckForMs: 3_600_000 },
    'supervisor_states_st',
  ],
  ['progress range', { progressMin: 97, progressMax: 99 }, 'supervisor_states_progress_idx'],
];

describePostgresOnly('fleet query plans', (engine) => {
  let db: Database;
  beforeAll(async () => {
    db = await engine.openMigrated();
    // Mostly working supervisors in one state, as a real fleet is: each filter is selective.
    await db.query(`
      INSERT INTO supervisor_states (id, machine_id, machine_version, owner, snapshot, version,
        state, state_value, tags, progress, pending_questions, state_entered_at)
      SELECT gen_random_uuid(), CASE WHEN i % 500 = 5 THEN 'rare' ELSE 'reference' END, 1, 'owner-' || (i % 1000), '{}'::jsonb, 1,
        (CASE WHEN i % 100 = 0 THEN 'paused' WHEN i % 50 = 1 THEN 'waiting_for_user'
              WHEN i % 97 = 2 THEN 'failed' ELSE 'working' END)::supervisor_state,
        CASE WHEN i % 100 = 3 THEN 'active.executing.running' ELSE 'active.planning' END,
        CASE WHEN i % 200 = 4 THEN ARRAY['urgent'] ELSE '{}'::text[] END,
        i % 90,
        CASE WHEN i % 50 = 1 THEN '[{"id":"q"}]'::jsonb ELSE '[]'::jsonb END,
        now() - (i % 7200) * interval '1 second'
      FROM generate_series(1, 100000) AS i`);
    await db.exec('ANALYZE supervisor_states');
  });
  afterAll(() => db.close());

  async function planOf(filter: FleetFilter): Promise<string> {
    const { text, params } = fleetQuery(filter);
    const { rows } = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, params);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  }

  it('serves a state value prefix, which spans many values, from an index scan', async () => {
    const plan = await planOf({ stateValue: 'active.executing' });
    expect(plan, plan).toMatch(/Index Scan|Bitmap Index Scan/);
    expect(plan, plan).not.toMatch(/Seq Scan/);
  });

  it('serves the attention order, first page and the next, from the (state, entered) index', async () => {
    const page = fleetQuery({ order: 'attention', limit: 200 });
    const { rows } = await db.query<{ id: string }>(page.text, page.params);
    expect(rows).toHaveLength(200);
    for (const filter of [
      { order: 'attention' as const, limit: 200 },
      { order: 'attention' as const, limit: 200, afterId: rows.at(-1)?.id },
    ]) {
      const plan = await planOf(filter);
      expect(plan, plan).toMatch(/Index Scan (Backward )?using supervisor_states_stuck_idx/);
      expect(plan, plan).not.toMatch(/Seq Scan/);
    }
  });

  it.each(FILTERS)('serves "%s" from its index', async (_name, filter, index) => {
    const plan = await planOf(filter);
    expect(plan, plan).toMatch(
      new RegExp(`(Index|Bitmap Index) Scan (using|on) (${index}|supervisor_states_pkey)`),
    );
    expect(plan, plan).not.toMatch(/Seq Scan/);
  });
});
