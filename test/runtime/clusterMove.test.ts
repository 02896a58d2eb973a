// A node joins while another runs: it takes a share of the slices within a few lease
// periods, and the supervisors moved to it keep their pending questions and their timers:
// a deadline that comes due while its slice moves expires the question once.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ClusterNode, clusterNode } from '../../src/cluster.ts';
import { silentLogger } from '../../src/logger.ts';
import { sliceOf } from '../../src/model/slices.ts';
import type { Database } from '../../src/persistence/database.ts';
import { listEvents } from '../../src/persistence/journalRepository.ts';
import type { SupervisorHost } from '../../src/runtime/supervisorHost.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { testHost } from '../helpers/host.ts';
import { waitFor } from '../helpers/waitFor.ts';

const TTL_MS = 1_500;
const DEADLINES = 40;
const SURVEYS = 20;

describeEachEngine('slices moving to a node that joins', (engine) => {
  let db: Database;
  const nodes: Array<{ node: ClusterNode; host: SupervisorHost }> = [];
  let surveys: string[] = [];
  async function join(prepare?: (host: SupervisorHost) => void) {
    const node = clusterNode(db, { ttlMs: TTL_MS, log: silentLogger });
    const host = testHost(db, { slices: node.membership });
    prepare?.(host);
    nodes.push({ node, host });
    await node.join(host);
    return { node, host };
  }
  beforeAll(async () => {
    db = await engine.openMigrated();
  });
  afterAll(async () => {
    for (const { node, host } of nodes.reverse()) {
      await node.leave();
      await host.stop();
    }
    await db.close();
  });

  it('keeps pending questions and timers of the supervisors moved, a deadline due during the move expiring once', {
    timeout: 60_000,
  }, async () => {
    const first = await join();
    expect(first.host.slices?.held()).toHaveLength(256);
    const deadlines = await Promise.all(
      Array.from({ length: DEADLINES }, () =>
        first.host.spawn('deadline', { expiresInMs: 2_000 }).then(({ id }) => id),
      ),
    );
    surveys = await Promise.all(
      Array.from({ length: SURVEYS }, () =>
        first.host.spawn('survey', { count: 1 }).then(({ id }) => id),
      ),
    );

    const joinedAt = Date.now();
    const second = await join();
    // Its share arrives a few slices per lease period, while the deadlines come due.
    await waitFor('the second node to hold half', () => second.host.slices?.held().length === 128, {
      timeoutMs: 40_000,
      intervalMs: 100,
    });
    const moveMs = Date.now() - joinedAt;
    const moved = (id: string) => second.host.slices?.owns(id) === true;
    // The deadlines (2 s after their ask) came due while slices were still moving.
    console.log(`half the slices moved in ${moveMs} ms`);
    expect(moveMs).toBeGreaterThan(2_000);
    expect(deadlines.filter(moved).length).toBeGreaterThan(0);
    expect(surveys.filter(moved).length).toBeGreaterThan(0);

    // Every deadline expired its question once, wherever it was when it came due.
    await waitFor(
      'every deadline to lapse',
      async () => {
        const rows = await Promise.all(deadlines.map((id) => first.host.get(id)));
        return rows.every((row) => row.stateValue === 'escalated');
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    await new Promise((resolve) => setTimeout(resolve, TTL_MS));
    for (const id of deadlines) {
      const expired = (await listEvents(db, id)).filter((e) => e.kind === 'question_expired');
      expect(expired, `supervisor ${id} (slice ${sliceOf(id)})`).toHaveLength(1);
    }
    // The surveys moved still ask their question, and the node that owns them now answers.
    for (const id of surveys.filter(moved)) {
      expect(second.host.committed(id)?.pendingQuestions.map((q) => q.id)).toEqual(['q0']);
      expect((await second.host.answer(id, 'q0', 1)).duplicate).toBe(false);
    }
    const restored = await db.query<{ source: string }>(
      `SELECT restoration_source AS source FROM supervisor_states WHERE id = ANY($1::uuid[])`,
      [surveys.filter(moved)],
    );
    expect(restored.rows.every((row) => row.source === 'failover')).toBe(true);
  });

  it('tries a failed restore of slices taken again, until their supervisors are in service', {
    timeout: 60_000,
  }, async () => {
    let failures = 0;
    const failUntil = Date.now() + 2_500;
    const third = await join((host) => {
      const restoreAll = host.restoreAll.bind(host);
      host.restoreAll = async (source, slices) => {
        // The restores of its first seconds fail, as with the database away for a moment.
        if (Date.now() < failUntil) {
          failures++;
          throw new Error('the database is away');
        }
        return restoreAll(source, slices);
      };
    });
    await waitFor(
      'the third node to hold its share',
      () => (third.host.slices?.held().length ?? 0) >= 84,
      {
        timeoutMs: 40_000,
        intervalMs: 100,
      },
    );
    const owned = surveys.filter((id) => third.host.slices?.owns(id));
    expect(failures).toBeGreaterThan(0);
    expect(owned.length).toBeGreaterThan(0);
    await waitFor('its supervisors in service', () =>
      owned.every((id) => third.host.committed(id) !== undefined),
    );
  });
});
