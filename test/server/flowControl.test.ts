// Slow and dead clients cost bounded memory; shutdown says goodbye.
import { describe, expect, it } from 'vitest';
import { describeEachEngine } from '../helpers/engines.ts';
import { TOKENS, useServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/waitFor.ts';
import { openTestClient } from '../helpers/wsTestClient.ts';

describeEachEngine('flow control', (engine) => {
  describe('a client that does not read', () => {
    // One commit below sends 100 questions (~0.9 MB) to each client at once: the instant
    // limit (4 × hard) must leave room for that burst plus what the kernel has not taken,
    // or a reader the OS did not schedule for a moment (a loaded machine) is dropped too.
    const fixture = useServer(engine, {
      limits: { softBufferBytes: 16 * 1024, hardBufferBytes: 1024 * 1024, stallMs: 2_000 },
    });

    it('is dropped past the hard limit while a reading client gets everything', async () => {
      const slow = await openTestClient(fixture.wsUrl, { token: TOKENS.alice });
      await slow.request({ type: 'subscribe', owner: 'alice' });
      slow.ws.pause(); // stops reading its socket: frames pile up in the server
      const reader = await openTestClient(fixture.wsUrl, { token: TOKENS.alice });
      await reader.request({ type: 'subscribe', owner: 'alice' });
      let readerDropped = false;
      void reader.closed.then(() => {
        readerDropped = true;
      });
      const received = () => reader.frames.filter((f) => f.type === 'question.asked').length;
      // 2,000 questions of ~9 KB each, ~18 MB: more than every socket buffer on the way.
      // The reader takes each commit's burst before the next: it runs in this process,
      // and a loaded machine could otherwise starve it into a backlog past the limits,
      // which would rightly drop it too.
      for (let i = 1; i <= 20; i++) {
        await fixture.host.spawn('survey', { count: 100, promptLength: 9_000 }, { owner: 'alice' });
        await waitFor(
          `the reader to receive ${i * 100} questions, or be dropped`,
          () => received() >= i * 100 || readerDropped,
          { timeoutMs: 30_000 },
        );
      }
      expect(readerDropped).toBe(false);
      expect(received()).toBe(2_000);
      // The paused client cannot see its socket close; the server's side can.
      await waitFor(
        'the server to drop the client that does not read',
        () => fixture.server.clients() === 1,
        { timeoutMs: 10_000 },
      );
      const dropped = await fixture.metrics.registry.getSingleMetricAsString(
        'steward_slow_clients_dropped_total',
      );
      expect(dropped).toMatch(/^steward_slow_clients_dropped_total 1$/m);
      slow.ws.terminate();
      await reader.close();
    }, 60_000);
  });

  describe('a client that stops answering pings', () => {
    const fixture = useServer(engine, { pingIntervalMs: 100 });

    it('is disconnected after one missed pong', async () => {
      const dead = await openTestClient(fixture.wsUrl, { token: TOKENS.alice });
      const alive = await openTestClient(fixture.wsUrl, { token: TOKENS.alice });
      dead.ws.pause(); // reads nothing, so answers no ping
      // The paused client cannot see its socket close; the server's side can.
      await waitFor(
        'the server to drop the client that answers no ping',
        () => fixture.server.clients() === 1,
        { timeoutMs: 5_000 },
      );
      await new Promise((r) => setTimeout(r, 300));
      expect(alive.ws.readyState).toBe(alive.ws.OPEN);
      expect(fixture.server.clients()).toBe(1);
      dead.ws.terminate();
      await alive.close();
    });

    it('closes every client with 1001 on shutdown and refuses new ones', async () => {
      const client = await openTestClient(fixture.wsUrl, { token: TOKENS.alice });
      await fixture.server.close();
      expect(await client.closed).toBe(1001);
      await expect(openTestClient(fixture.wsUrl, { token: TOKENS.alice })).rejects.toThrow();
    });
  });
});
