import { afterAll, beforeAll, expect, it } from 'vitest';
import { isStewardError } from '../../src/errors.ts';
import type { Database } from '../../src/persistence/database.ts';
import { getSupervisor } from '../../src/persistence/supervisorRepository.ts';
import {
  type CommitBatch,
  createSupervisorStore,
  type SupervisorStore,
} from '../../src/persistence/supervisorStore.ts';
import { idInSlices } from '../../src/runtime/cluster/slices.ts';
import { createSnapshotWriter } from '../../src/runtime/commit/snapshotWriter.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { supervisorWrite } from '../helpers/fixtures.ts';

describeEachEngine('snapshot writer', (engine) => {
  let db: Database;
  let store: SupervisorStore;
  beforeAll(async () => {
    db = await engine.openMigrated();
    store = createSupervisorStore(db);
  });
  afterAll(() => db.close());

  /** The real store, recording which supervisors each commit carried while it ran. */
  function watchedStore() {
    const batches: string[][] = [];
    const overlapping: string[] = [];
    const running = new Set<string>();
    const watched: SupervisorStore = {
      ...store,
      async commit(batch: CommitBatch) {
        const ids = batch.states.map((s) => s.id);
        for (const id of ids) if (running.has(id)) overlapping.push(id);
        for (const id of ids) running.add(id);
        batches.push(ids);
        try {
          return await store.commit(batch);
        } finally {
          for (const id of ids) running.delete(id);
        }
      },
    };
    return { watched, batches, overlapping };
  }

  it('writes one supervisor in order, coalescing what arrives during a write', async () => {
    const { watched, batches, overlapping } = watchedStore();
    const writer = createSnapshotWriter({ store: watched, maxConcurrentBatches: 4 });
    const base = supervisorWrite();
    const durable: Promise<void>[] = [];
    for (let version = 1; version <= 50; version++) {
      writer.enqueue({
        write: { ...base, version, progress: version * 2 },
        events: [{ supervisorId: base.id, version, kind: 'phase_changed', payload: { version } }],
        checkpoint: false,
      });
      durable.push(writer.whenDurable(base.id, version));
      if (version % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(durable);
    await writer.close();
    expect(overlapping).toEqual([]);
    expect(batches.length).toBeLessThan(50);
    expect(await getSupervisor(db, base.id)).toMatchObject({ version: 50, progress: 100 });
    const { rows } = await db.query<{ version: string }>(
      `SELECT version FROM supervisor_events WHERE supervisor_id = $1 ORDER BY id`,
      [base.id],
    );
    expect(rows.map((r) => Number(r.version))).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('group-commits many supervisors in few transactions', async () => {
    const { watched, batches } = watchedStore();
    const writer = createSnapshotWriter({ store: watched, maxBatch: 100 });
    const writes = Array.from({ length: 300 }, () => supervisorWrite());
    for (const write of writes) writer.enqueue({ write, events: [], checkpoint: false });
    await Promise.all(writes.map((w) => writer.whenDurable(w.id, 1)));
    await writer.close();
    // 300 rows, at most 100 a statement, shared between two transaction slots: 3 or 4.
    expect(batches.length).toBeLessThanOrEqual(4);
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(100);
    expect(writer.stats()).toMatchObject({ batchesCommitted: batches.length, rowsCommitted: 300 });
  });

  it('never lets an older snapshot replace a newer one written elsewhere', async () => {
    const write = supervisorWrite({ version: 1 });
    const first = createSnapshotWriter({ store });
    const second = createSnapshotWriter({ store });
    first.enqueue({ write: { ...write, version: 7, progress: 70 }, events: [], checkpoint: false });
    await first.whenDurable(write.id, 7);
    second.enqueue({
      write: { ...write, version: 3, progress: 30 },
      events: [],
      checkpoint: false,
    });
    const error = await second.whenDurable(write.id, 3).catch((e: unknown) => e);
    expect(isStewardError(error, 'ERR_STALE_VERSION')).toBe(true);
    expect(await getSupervisor(db, write.id)).toMatchObject({ version: 7, progress: 70 });
    await Promise.all([first.close(), second.close()]);
  });

  /** The real store whose first commit really commits, then "loses" its reply. */
  function losingFirstReply(beforeLoss: () => void = () => {}): SupervisorStore {
    let lose = true;
    return {
      ...store,
      async commit(batch) {
        const result = await store.commit(batch);
        if (!lose) return result;
        lose = false;
        beforeLoss();
        throw new Error('Connection terminated unexpectedly');
      },
    };
  }

  it('treats a commit whose reply was lost as durable, and journals nothing twice', async () => {
    // A newer write is queued meanwhile, so the retry carries both versions' entries.
    const lossy = losingFirstReply(() =>
      writer.enqueue({
        write: { ...base, version: 2, progress: 20 },
        events: [{ supervisorId: base.id, version: 2, kind: 'question_answered' }],
        checkpoint: false,
      }),
    );
    const base = supervisorWrite({ version: 1, progress: 10 });
    const writer = createSnapshotWriter({ store: lossy, retryInitialMs: 1 });
    writer.enqueue({
      write: base,
      events: [{ supervisorId: base.id, version: 1, kind: 'question_asked' }],
      checkpoint: false,
    });
    await writer.whenDurable(base.id, 1);
    await writer.whenDurable(base.id, 2);
    await writer.close();
    expect(await getSupervisor(db, base.id)).toMatchObject({ version: 2, progress: 20 });
    const { rows } = await db.query<{ kind: string }>(
      'SELECT kind FROM supervisor_events WHERE supervisor_id = $1 ORDER BY id',
      [base.id],
    );
    expect(rows.map((r) => r.kind)).toEqual(['question_asked', 'question_answered']);
  });

  it('treats a lost reply of the very write it retries as durable', async () => {
    const lossy = losingFirstReply();
    const write = supervisorWrite();
    const writer = createSnapshotWriter({ store: lossy, retryInitialMs: 1 });
    writer.enqueue({
      write,
      events: [{ supervisorId: write.id, version: 1, kind: 'question_asked' }],
      checkpoint: false,
    });
    await writer.whenDurable(write.id, 1);
    await writer.close();
    const { rows } = await db.query('SELECT 1 FROM supervisor_events WHERE supervisor_id = $1', [
      write.id,
    ]);
    expect(rows).toHaveLength(1);
  });

  it('rejects a row the database refuses, without holding back the rest of its batch', async () => {
    const rejected: string[] = [];
    const writer = createSnapshotWriter({
      store,
      retryInitialMs: 1,
      onRejected: (id) => rejected.push(id),
    });
    const good = [supervisorWrite(), supervisorWrite()];
    const bad = supervisorWrite({ progress: 250 });
    for (const write of [good[0], bad, good[1]]) {
      if (write) writer.enqueue({ write, events: [], checkpoint: false });
    }
    const badResult = await writer.whenDurable(bad.id, 1).catch((e: unknown) => e);
    await Promise.all(good.map((w) => writer.whenDurable(w.id, 1)));
    expect(isStewardError(badResult, 'ERR_NOT_DURABLE')).toBe(true);
    expect(rejected).toEqual([bad.id]);
    expect(await getSupervisor(db, bad.id)).toBeNull();
    await writer.close();
  });

  it('never acks a write the fence refused, and hands its supervisor back', async () => {
    // Slice 127: this node holds it under epoch 1, but another node took it (epoch 2).
    await db.query(
      `UPDATE slice_leases SET node_id = 'other', epoch = 2, expires_at = now() + interval '10 s'
       WHERE slice = 127`,
    );
    const fencedIds: string[] = [];
    const writer = createSnapshotWriter({
      store,
      fence: (ids) => ({ nodeId: 'me', leases: ids.map(() => ({ slice: 127, epoch: 1 })) }),
      onFenced: (ids) => fencedIds.push(...ids),
    });
    const write = { ...supervisorWrite(), id: idInSlices([127]) };
    writer.enqueue({ write, events: [], checkpoint: false });
    const error = await writer.whenDurable(write.id, 1).catch((e: unknown) => e);
    expect(isStewardError(error, 'ERR_SUPERVISOR_MOVED')).toBe(true);
    expect(fencedIds).toEqual([write.id]);
    expect(writer.committedVersion(write.id)).toBe(0);
    expect(await getSupervisor(db, write.id)).toBeNull();
    await writer.close();
  });

  it('drops the queued writes of supervisors whose slice left, telling their callers', async () => {
    const writer = createSnapshotWriter({ store });
    const gone = supervisorWrite();
    const kept = supervisorWrite();
    writer.enqueue({ write: gone, events: [], checkpoint: false });
    writer.enqueue({ write: kept, events: [], checkpoint: false });
    const waiting = writer.whenDurable(gone.id, 1).catch((e: unknown) => e);
    writer.discard((id) => id === gone.id);
    expect(isStewardError(await waiting, 'ERR_SUPERVISOR_MOVED')).toBe(true);
    await writer.whenDurable(kept.id, 1);
    await writer.flush();
    expect(await getSupervisor(db, gone.id)).toBeNull();
    expect(await getSupervisor(db, kept.id)).not.toBeNull();
    await writer.close();
  });
});
