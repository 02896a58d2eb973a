// Two hosts on one database, each holding half of the slices, each serving clients for the
// whole fleet: a call for a supervisor of the other node travels through the inbox table
// and is acked only after the owner's commit, once, whichever node it reached.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStewardError } from '../../src/errors.ts';
import { silentLogger } from '../../src/logger.ts';
import { SLICE_COUNT, sliceOf } from '../../src/model/slices.ts';
import { createChangeFeedStore } from '../../src/persistence/changeFeed.ts';
import type { Database } from '../../src/persistence/database.ts';
import { createForwardedCallStore } from '../../src/persistence/forwardedCalls.ts';
import { listEvents } from '../../src/persistence/journalRepository.ts';
import type { CommittedChange } from '../../src/runtime/commit/committedChanges.ts';
import { CallForwarder, type Listen } from '../../src/runtime/forwarding/callForwarder.ts';
import { forwardingHost } from '../../src/runtime/forwarding/forwardingHost.ts';
import { InboxWorker } from '../../src/runtime/forwarding/inboxWorker.ts';
import { KeyedLine } from '../../src/runtime/forwarding/keyedLine.ts';
import { RemoteChanges } from '../../src/runtime/forwarding/remoteChanges.ts';
import type { SupervisorHost } from '../../src/runtime/supervisorHost.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { testHost } from '../helpers/host.ts';
import { grantLeases, TestLeases } from '../helpers/leases.ts';
import { waitFor } from '../helpers/waitFor.ts';

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** A listen that never hears anything: the parts must then find their work by polling. */
const deaf: Listen = async () => async () => {};

/** A node: its own host, the inbox it serves, and the host its clients use. */
interface Node {
  host: SupervisorHost;
  forwarder: CallForwarder;
  inbox: InboxWorker;
  remote: RemoteChanges;
  served: SupervisorHost;
}

function node(
  db: Database,
  leases: TestLeases,
  listen: Listen,
  timeoutMs = 20_000,
  host = testHost(db, { slices: leases }),
): Node {
  const store = createForwardedCallStore(db);
  const forwarder = new CallForwarder({
    store,
    nodeId: leases.nodeId,
    listen,
    timeoutMs,
    log: silentLogger,
  });
  const line = new KeyedLine(host);
  const inbox = new InboxWorker({
    store,
    nodeId: leases.nodeId,
    host,
    line,
    slices: () => host.slices?.held() ?? [],
    listen,
    log: silentLogger,
  });
  const remote = new RemoteChanges({
    store: createChangeFeedStore(db),
    listen,
    isLocal: (id) => host.slices?.owns(id) ?? false,
    log: silentLogger,
  });
  host.subscribe(() => remote.announce());
  const served = forwardingHost(host, forwarder, remote, line);
  return { host, forwarder, inbox, remote, served };
}

async function startNode(n: Node) {
  await n.remote.start();
  await n.forwarder.start();
  await n.inbox.start();
}

async function stopNode(n: Node) {
  await n.remote.stop();
  await n.inbox.stop();
  await n.forwarder.stop();
  await n.host.stop();
}

async function kinds(db: Database, id: string, kind: string) {
  return (await listEvents(db, id)).filter((e) => e.kind === kind);
}

describeEachEngine('forwarded calls', (engine) => {
  let db: Database;
  let a: Node;
  let b: Node;
  const leasesA = new TestLeases('node-a');
  const leasesB = new TestLeases('node-b');
  beforeAll(async () => {
    db = await engine.openMigrated();
    await grantLeases(db, leasesA, range(0, SLICE_COUNT / 2), 1);
    await grantLeases(db, leasesB, range(SLICE_COUNT / 2, SLICE_COUNT), 1);
    const listen = db.listen.bind(db);
    a = node(db, leasesA, listen);
    b = node(db, leasesB, listen);
    await Promise.all([startNode(a), startNode(b)]);
  });
  afterAll(async () => {
    await Promise.all([stopNode(a), stopNode(b)]);
    await db.close();
  });

  it('applies an answer sent to the node that does not own it exactly once, acked after the owner commits (100 at once, both directions)', async () => {
    const onA = await Promise.all(range(0, 50).map(() => a.host.spawn('survey', { count: 1 })));
    const onB = await Promise.all(range(0, 50).map(() => b.host.spawn('survey', { count: 1 })));
    const crossed = [
      ...onA.map(({ id }) => ({ id, via: b.served, value: 1 })),
      ...onB.map(({ id }) => ({ id, via: a.served, value: 2 })),
    ];
    const acks = await Promise.all(
      crossed.map(async ({ id, via, value }) => {
        const result = await via.answer(id, 'q0', value, { answeredBy: 'alice' });
        // Acked: the owner's commit is in the row and the journal already.
        const row = await via.get(id);
        expect(row.version).toBeGreaterThanOrEqual(result.version);
        expect(row.pendingQuestions).toEqual([]);
        return result;
      }),
    );
    expect(acks.every((ack) => !ack.duplicate)).toBe(true);
    for (const { id, value } of crossed) {
      const answered = await kinds(db, id, 'question_answered');
      expect(answered.map((e) => (e.payload as { value: unknown }).value)).toEqual([value]);
    }
    expect(a.forwarder.counters.forwarded).toBeGreaterThanOrEqual(50);
    expect(b.inbox.counters.served).toBeGreaterThanOrEqual(50);

    // Sent again through the other node: a duplicate, and nothing more in the journal.
    const repeats = await Promise.all(
      crossed.slice(0, 10).map(({ id, via, value }) => via.answer(id, 'q0', value)),
    );
    expect(repeats.every((r) => r.duplicate)).toBe(true);
    for (const { id } of crossed.slice(0, 10)) {
      expect(await kinds(db, id, 'question_answered')).toHaveLength(1);
    }
    // Nothing is left behind in the inbox once the callers had their outcomes.
    await waitFor('the inbox to empty', async () => {
      const { rows } = await db.query('SELECT id FROM forwarded_calls');
      return rows.length === 0;
    });
  });

  it('tells subscribers on every node what the owner committed, in version order', async () => {
    const heard: CommittedChange[] = [];
    const stop = a.served.subscribe((change) => void heard.push(change));
    try {
      const { id } = await b.host.spawn('survey', { count: 2 });
      const about = () => heard.filter((c) => c.supervisorId === id);
      await waitFor('the questions asked on the other node', () =>
        about().some((c) => c.type === 'question.asked' && c.question.id === 'q1'),
      );
      await a.served.answer(id, 'q0', 4);
      await waitFor('the answer resolved on the other node', () =>
        about().some((c) => c.type === 'question.resolved' && c.questionId === 'q0'),
      );
      const resolved = about().find((c) => c.type === 'question.resolved');
      expect(resolved).toMatchObject({ resolution: 'answered', owner: null });
      const versions = about().map((c) => c.version);
      expect(versions).toEqual([...versions].sort((x, y) => x - y));
      // Its own supervisors are told by its own stream only, once each.
      const { id: mine } = await a.host.spawn('survey', { count: 1 });
      await waitFor('its own question', () => heard.some((c) => c.supervisorId === mine));
      await new Promise((resolve) => setTimeout(resolve, 700));
      const asked = heard.filter((c) => c.supervisorId === mine && c.type === 'question.asked');
      expect(asked).toHaveLength(1);
    } finally {
      stop();
    }
  });

  it("brings the owner's refusal back with its code, and changes nothing", async () => {
    const { id, version } = await a.host.spawn('survey', { count: 1 });
    const wrongType = await b.served.answer(id, 'q0', 'many').catch((e: unknown) => e);
    expect(isStewardError(wrongType, 'ERR_ANSWER_INVALID')).toBe(true);
    const unknown = await b.served.answer(id, 'nope', 1).catch((e: unknown) => e);
    expect(isStewardError(unknown, 'ERR_QUESTION_NOT_PENDING')).toBe(true);
    // A grant without roles still answers a question addressed to the owner.
    const asOwner = await b.served
      .answer(id, 'q0', 1, { grant: { anyAudience: false, roles: [] } })
      .then(() => 'answered');
    expect(asOwner).toBe('answered');
    const { id: roleOnly } = await a.host.spawn('survey', { count: 1, role: 'finance' });
    const refused = await b.served
      .answer(roleOnly, 'q0', 1, { grant: { anyAudience: false, roles: ['legal'] } })
      .catch((e: unknown) => e);
    expect(isStewardError(refused, 'ERR_FORBIDDEN')).toBe(true);
    expect((await a.host.get(roleOnly)).pendingQuestions).toHaveLength(1);
    expect((await a.host.get(id)).version).toBeGreaterThan(version);
  });

  it('applies each forwarded event once, and commands too', async () => {
    const { id } = await b.host.spawn('tally', {});
    await Promise.all(range(0, 20).map(() => a.served.send(id, { type: 'add' })));
    await a.served.pause(id);
    expect((await a.served.get(id)).stateValue).toBe('paused');
    await a.served.resume(id);
    const local = b.host.local(id)?.snapshot as { context: { count: number } };
    expect(local.context.count).toBe(20);
    expect(await kinds(db, id, 'command')).toHaveLength(1 + 20 + 2);
  });

  it('applies a keyed command once when its repeat comes through the other node, after it or at the same time', async () => {
    const { id } = await b.host.spawn('tally', {});
    const keyed = (key: string) => ({ idempotency: { key, requestHash: 'h' } });
    const first = await a.served.send(id, { type: 'add' }, keyed('k-after'));
    const repeat = await b.served.send(id, { type: 'add' }, keyed('k-after'));
    expect(repeat.version).toBe(first.version);
    await Promise.all([
      a.served.send(id, { type: 'add' }, keyed('k-together')),
      b.served.send(id, { type: 'add' }, keyed('k-together')),
      a.served.send(id, { type: 'add' }, keyed('k-together')),
    ]);
    const local = b.host.local(id)?.snapshot as { context: { count: number } };
    expect(local.context.count).toBe(2);
  });

  it('creates a supervisor asked of a node that holds no slice at the node that holds its id, a keyed create once', async () => {
    const c = node(db, new TestLeases('node-c'), db.listen.bind(db));
    await startNode(c);
    try {
      const { id, version } = await c.served.spawn('survey', { count: 1 }, { owner: 'alice' });
      expect(version).toBeGreaterThan(0);
      const owner = sliceOf(id) < SLICE_COUNT / 2 ? a : b;
      expect(owner.host.local(id)).toBeDefined();
      expect((await c.served.get(id)).owner).toBe('alice');
      // Answered through the node without slices too: it travels to the owner.
      await c.served.answer(id, 'q0', 1);
      expect(await kinds(db, id, 'question_answered')).toHaveLength(1);

      const keyed = { idempotency: { key: 'create-1', requestHash: 'h' }, owner: 'alice' };
      const [first, ...repeats] = await Promise.all([
        c.served.spawn('survey', { count: 1 }, keyed),
        c.served.spawn('survey', { count: 1 }, keyed),
        c.served.spawn('survey', { count: 1 }, keyed),
      ]);
      for (const repeat of repeats) expect(repeat).toEqual(first);
      const spawned = (await kinds(db, (first as { id: string }).id, 'command')).filter(
        (e) => (e.payload as { command: string }).command === 'spawn',
      );
      expect(spawned).toHaveLength(1);
    } finally {
      await stopNode(c);
    }
  });

  it('does not apply a keyed command twice when its first owner committed it but wrote no outcome', async () => {
    const { id } = await b.host.spawn('tally', {});
    const store = createForwardedCallStore(db);
    // The call as a forwarder writes it; its first owner applies it, then "dies".
    const call = {
      kind: 'send' as const,
      event: { type: 'add' },
      options: { idempotency: { key: 'forwarded:test-1', requestHash: 'forwarded' } },
    };
    await b.inbox.stop();
    const callId = await store.insert(id, call, 'node-a');
    const claimed = await store.claimPending([sliceOf(id)], 'node-dead', [], 10);
    expect(claimed.map((c) => c.id)).toContain(callId);
    // Claimed: its caller can no longer withdraw it.
    expect(await store.withdraw(callId)).toBe(false);
    await b.host.send(id, { type: 'add' }, call.options);
    const restarted = new InboxWorker({
      store,
      nodeId: 'node-b2',
      host: b.host,
      line: new KeyedLine(b.host),
      slices: () => b.host.slices?.held() ?? [],
      listen: deaf,
      log: silentLogger,
    });
    await restarted.start();
    try {
      await waitFor('the call to be done', async () => (await store.outcomes([callId])).size === 1);
      const outcome = (await store.outcomes([callId])).get(callId) as {
        result: { version: number };
      };
      expect(outcome.result.version).toBeGreaterThan(0);
      const local = b.host.local(id)?.snapshot as { context: { count: number } };
      expect(local.context.count).toBe(1);
    } finally {
      await restarted.stop();
    }
  });

  describe('without notifications', () => {
    it('still delivers both ways by polling', async () => {
      // The same hosts, with an inbox and a forwarder each that hear no NOTIFY.
      await Promise.all([a.inbox.stop(), b.inbox.stop()]);
      const c = node(db, leasesA, deaf, 20_000, a.host);
      const d = node(db, leasesB, deaf, 20_000, b.host);
      await Promise.all([startNode(c), startNode(d)]);
      try {
        const { id: onA } = await a.host.spawn('survey', { count: 1 });
        const { id: onB } = await b.host.spawn('survey', { count: 1 });
        expect((await d.served.answer(onA, 'q0', 7)).duplicate).toBe(false);
        expect((await c.served.answer(onB, 'q0', 8)).duplicate).toBe(false);
        expect(await kinds(db, onA, 'question_answered')).toHaveLength(1);
        expect(await kinds(db, onB, 'question_answered')).toHaveLength(1);
        expect(c.inbox.counters.served + d.inbox.counters.served).toBe(2);
      } finally {
        await Promise.all([c.inbox.stop(), c.forwarder.stop(), d.inbox.stop(), d.forwarder.stop()]);
      }
    });

    it('withdraws a call no owner took in time, so that it is never applied', async () => {
      const lonely = new TestLeases('node-lonely');
      await db.query(`UPDATE slice_leases SET node_id = NULL, expires_at = NULL WHERE slice = $1`, [
        SLICE_COUNT - 1,
      ]);
      leasesB.epochs.delete(SLICE_COUNT - 1);
      try {
        const c = node(db, lonely, deaf, 300);
        await c.forwarder.start();
        const id = idInSlice(SLICE_COUNT - 1);
        const error = await c.served.send(id, { type: 'add' }).catch((e: unknown) => e);
        expect(isStewardError(error, 'ERR_SUPERVISOR_MOVED')).toBe(true);
        const { rows } = await db.query('SELECT id FROM forwarded_calls WHERE supervisor_id = $1', [
          id,
        ]);
        expect(rows).toEqual([]);
        await c.forwarder.stop();
      } finally {
        await grantLeases(db, leasesB, [SLICE_COUNT - 1], 1);
      }
    });
  });
});

/** A random id whose slice is `slice`. */
function idInSlice(slice: number): string {
  for (;;) {
    const id = crypto.randomUUID();
    if (sliceOf(id) === slice) return id;
  }
}
