import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchMachineDefinition } from '../../bench/benchMachine.ts';
import { isStewardError } from '../../src/errors.ts';
import { createLogger } from '../../src/logger.ts';
import { createMachineRegistry } from '../../src/machines/registry.ts';
import { migrate } from '../../src/persistence/migrator.ts';
import { openPgliteDatabase } from '../../src/persistence/pgliteDatabase.ts';
import { createRetentionStore } from '../../src/persistence/retentionRepository.ts';
import { createSupervisorStore } from '../../src/persistence/supervisorStore.ts';
import { RetentionSweeper } from '../../src/runtime/retention.ts';
import { createSupervisorHost } from '../../src/runtime/supervisorHost.ts';
import { createSteward } from '../../src/steward.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { saveRows, supervisorWrite } from '../helpers/fixtures.ts';
import { waitFor } from '../helpers/waitFor.ts';

const FINISHED = 10_000;
const LIVE = 20;
const DAY = 86_400_000;

function p99(latencies: number[]): number {
  const sorted = [...latencies].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? Number.NaN;
}

describeEachEngine('retention', (engine) => {
  it(`deletes ${FINISHED.toLocaleString('en')} finished supervisors in batches while answers to live ones go on`, async () => {
    const db = await engine.openMigrated();
    const registry = createMachineRegistry();
    registry.register(benchMachineDefinition);
    const host = createSupervisorHost({
      store: createSupervisorStore(db),
      registry,
      heartbeatIntervalMs: 0,
    });
    try {
      // Finished long ago: one genuine row, cloned, each with two journal entries.
      const seed = supervisorWrite({ state: 'completed', machineId: 'bench' });
      await saveRows(db, seed);
      await db.query(
        `INSERT INTO supervisor_states (id, machine_id, machine_version, owner, snapshot, version, state)
         SELECT gen_random_uuid(), machine_id, machine_version, owner, snapshot, version, state
         FROM supervisor_states, generate_series(2, $2) WHERE id = $1`,
        [seed.id, FINISHED],
      );
      await db.query(
        `UPDATE supervisor_states SET state_entered_at = now() - interval '40 days'
         WHERE state = 'completed'`,
      );
      await db.query(
        `INSERT INTO supervisor_events (supervisor_id, version, kind)
         SELECT id, 1, kind FROM supervisor_states, unnest(ARRAY['phase_changed', 'completed']) AS kind`,
      );

      const pending = new Map<string, string>();
      host.subscribe((change) => {
        if (change.type === 'question.asked') pending.set(change.supervisorId, change.question.id);
      });
      const live: string[] = [];
      for (let i = 0; i < LIVE; i++) live.push((await host.spawn('bench', undefined)).id);

      let phase: 'before' | 'during' | 'after' = 'before';
      const latencies = { before: [] as number[], during: [] as number[] };
      const errors: unknown[] = [];
      const answering = live.map(async (id) => {
        while (phase !== 'after') {
          const questionId = pending.get(id);
          if (!questionId) {
            await new Promise((resolve) => setTimeout(resolve, 1));
            continue;
          }
          pending.delete(id);
          const at = phase;
          const started = performance.now();
          try {
            await host.answer(id, questionId, true);
            latencies[at].push(performance.now() - started);
          } catch (error) {
            errors.push(error);
          }
        }
      });

      await new Promise((resolve) => setTimeout(resolve, 1_000));
      phase = 'during';
      const sweeper = new RetentionSweeper({
        store: createRetentionStore(db),
        retainFinishedMs: 30 * DAY,
        batchSize: 500,
        pauseMs: 10,
        log: createLogger({ level: 'silent' }),
      });
      const sweepStarted = performance.now();
      const report = await sweeper.sweep();
      const sweepMs = performance.now() - sweepStarted;
      phase = 'after';
      await Promise.all(answering);

      const rise = p99(latencies.during) - p99(latencies.before);
      console.log(
        `[${engine.name}] retention: ${report.deleted} deleted in ${report.batches} batches, ${Math.round(sweepMs)} ms; live answers p99 ${p99(latencies.before).toFixed(1)} ms before (${latencies.before.length}), ${p99(latencies.during).toFixed(1)} ms during (${latencies.during.length}): ${rise >= 0 ? '+' : ''}${rise.toFixed(1)} ms`,
      );
      expect(errors).toEqual([]);
      expect(report).toEqual({ deleted: FINISHED, batches: FINISHED / 500 });
      expect(latencies.during.length).toBeGreaterThan(0);
      const { rows } = await db.query<{ finished: number; journal: number; live: number }>(
        `SELECT (SELECT count(*)::int FROM supervisor_states WHERE state = 'completed') AS finished,
                (SELECT count(*)::int FROM supervisor_events e
                 WHERE NOT EXISTS (SELECT 1 FROM supervisor_states s WHERE s.id = e.supervisor_id)) AS journal,
                (SELECT count(*)::int FROM supervisor_states WHERE state <> 'completed') AS live`,
      );
      expect(rows[0]).toEqual({ finished: 0, journal: 0, live: LIVE });
    } finally {
      await host.stop();
      await db.close();
    }
  }, 120_000);
});

describe('retention in a running Steward', () => {
  it('sweeps soon after the start: an old finished supervisor goes, a recent one stays', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'steward-retention-'));
    const db = await openPgliteDatabase({ dataDir });
    await migrate(db);
    const [old, recent] = [
      supervisorWrite({ state: 'completed' }),
      supervisorWrite({ state: 'completed' }),
    ];
    await saveRows(db, old, recent);
    await db.query(
      `UPDATE supervisor_states SET state_entered_at = now() - interval '2 days' WHERE id = $1`,
      [old.id],
    );
    await db.close();
    const steward = createSteward({
      dataDir,
      port: 0,
      demo: false,
      tokens: [{ token: 'admin-token-0123456789abcdef', admin: true }],
      retainFinished: '1d',
      logLevel: 'silent',
    });
    try {
      await steward.ready;
      await waitFor('the old finished supervisor to be deleted', async () => {
        const gone = await steward.host.get(old.id).then(
          () => false,
          (error: unknown) => isStewardError(error, 'ERR_SUPERVISOR_NOT_FOUND'),
        );
        return gone;
      });
      expect((await steward.host.get(recent.id)).state).toBe('completed');
    } finally {
      await steward.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
