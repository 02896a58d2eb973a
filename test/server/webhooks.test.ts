import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { verifyWebhook } from '../../src/client/index.ts';
import { silentLogger } from '../../src/logger.ts';
import type { WebhookNotification } from '../../src/protocol/webhook.ts';
import { startWebhookNotifier, type WebhookNotifier } from '../../src/server/webhooks.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { spawnStored, useHost } from '../helpers/host.ts';

const SECRET = 'webhook-secret-0123456789';

interface Received {
  notification: WebhookNotification;
  delivery: string;
  signatureValid: boolean;
}

/** A real HTTP endpoint that answers with the next planned status (200 once the plan is spent). */
function receiver() {
  const received: Received[] = [];
  const plan: number[] = [];
  /** Set: the notifications it answers 500, whatever the plan says. */
  const state: { refuse: ((notification: WebhookNotification) => boolean) | undefined } = {
    refuse: undefined,
  };
  let requests = 0;
  const server: Server = createServer((request: IncomingMessage, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      requests++;
      const refused = state.refuse?.(JSON.parse(body) as WebhookNotification) === true;
      const status = refused ? 500 : (plan.shift() ?? 200);
      if (status === 200) {
        let notification: WebhookNotification;
        let signatureValid = true;
        try {
          notification = verifyWebhook({ secret: SECRET, headers: request.headers, body });
        } catch {
          signatureValid = false;
          notification = JSON.parse(body) as WebhookNotification;
        }
        received.push({
          notification,
          delivery: String(request.headers['x-steward-delivery']),
          signatureValid,
        });
      }
      response.writeHead(status).end();
    });
  });
  return {
    received,
    plan,
    get requests() {
      return requests;
    },
    set refuse(predicate: ((notification: WebhookNotification) => boolean) | undefined) {
      state.refuse = predicate;
    },
    server,
    url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
  };
}

const eventually = <T>(read: () => T) => expect.poll(read, { timeout: 10_000, interval: 20 });

describeEachEngine('webhook notifications', (engine) => {
  const fixture = useHost(engine);
  const endpoint = receiver();
  let notifier: WebhookNotifier;
  const outcomes: string[] = [];
  beforeAll(async () => {
    await new Promise<void>((resolve) => endpoint.server.listen(0, '127.0.0.1', resolve));
    notifier = startWebhookNotifier({
      host: fixture.host,
      url: endpoint.url(),
      secret: SECRET,
      log: silentLogger,
      retryInitialMs: 20,
      retryMaxMs: 100,
      onOutcome: (outcome) => outcomes.push(outcome),
    });
  });
  afterAll(async () => {
    notifier.close();
    await new Promise<void>((resolve) => endpoint.server.close(() => resolve()));
  });
  const about = (id: string) => endpoint.received.filter((r) => r.notification.supervisorId === id);

  it('posts each question asked and resolved, signed, once its commit is done', async () => {
    const { id } = await fixture.host.spawn('survey', { count: 2 }, { owner: 'alice' });
    await eventually(() => about(id).length).toBe(2);
    expect(about(id).every((r) => r.signatureValid)).toBe(true);
    expect(about(id)[0]).toMatchObject({
      delivery: expect.stringMatching(new RegExp(`^${id}/q0/asked/\\d{4}-`)),
      notification: {
        type: 'question.asked',
        owner: 'alice',
        version: 1,
        question: { id: 'q0', prompt: 'Question 0?', answer: { kind: 'number' } },
      },
    });
    await fixture.host.answer(id, 'q0', 3);
    await eventually(() => about(id).length).toBe(3);
    expect(about(id)[2]?.notification).toMatchObject({
      type: 'question.resolved',
      questionId: 'q0',
      resolution: 'answered',
      version: 2,
    });
  });

  it('retries through failures until the endpoint takes it, and delivers it once', async () => {
    // What earlier tests sent has had its outcome first.
    await eventually(() => notifier.queued).toBe(0);
    endpoint.plan.push(500, 503);
    const before = endpoint.requests;
    const seen = outcomes.length;
    const { id } = await fixture.host.spawn('survey', { count: 1 }, { owner: 'alice' });
    await eventually(() => about(id).length).toBe(1);
    expect(endpoint.requests - before).toBe(3);
    // Recorded when the notifier reads the response, after the endpoint has the body.
    await eventually(() => outcomes.slice(seen)).toEqual(['failed', 'failed', 'delivered']);
    expect(about(id)[0]?.signatureValid).toBe(true);
  });

  it('does not announce a question that was answered before its notification went out', async () => {
    // The endpoint refuses every announcement of a question, so this one stays undelivered
    // until the answer commits; a notifier that kept it would retry it forever. (Clearing
    // a plan of failures after the answer raced a retry already on its way.)
    endpoint.refuse = (n) => n.type === 'question.asked';
    try {
      const before = endpoint.requests;
      const { id } = await fixture.host.spawn('survey', { count: 1 }, { owner: 'alice' });
      await eventually(() => endpoint.requests - before).toBeGreaterThan(0);
      await fixture.host.answer(id, 'q0', 1);
      await eventually(() => about(id).map((r) => r.notification.type)).toEqual([
        'question.resolved',
      ]);
      await eventually(() => notifier.queued).toBe(0);
      expect(about(id).map((r) => r.notification.type)).toEqual(['question.resolved']);
    } finally {
      endpoint.refuse = undefined;
    }
  });

  it('notifies the pending questions of a restored supervisor again, as after a crash', async () => {
    // Asked by a runtime that stopped before its notification could go anywhere.
    const id = await spawnStored(fixture.db, 'survey', { count: 1 }, { owner: 'alice' });
    expect(about(id)).toEqual([]);
    await fixture.host.restore(id, 'restart');
    const { pendingQuestions } = await fixture.host.get(id);
    await eventually(() => about(id).map((r) => r.delivery)).toEqual([
      `${id}/q0/asked/${pendingQuestions[0]?.askedAt}`,
    ]);
  });

  it('notifies a reminder and an escalation once each, with their own delivery ids', async () => {
    const { id } = await fixture.host.spawn(
      'follow-up',
      { remindAfterMs: 200, escalateAfterMs: 500 },
      { owner: 'alice' },
    );
    const [question] = (await fixture.host.get(id)).pendingQuestions;
    await eventually(() => about(id).length).toBe(3);
    expect(about(id).map((r) => r.delivery)).toEqual([
      `${id}/review/asked/${question?.askedAt}`,
      `${id}/review/reminder/${question?.remindAt}`,
      `${id}/review/escalated/${question?.escalation?.at}`,
    ]);
    expect(about(id).map((r) => r.notification)).toMatchObject([
      { type: 'question.asked', version: 1, reminder: false, escalated: false },
      { type: 'question.asked', version: 2, reminder: true, escalated: false },
      { type: 'question.asked', version: 3, reminder: false, escalated: true },
    ]);
  });
});
