import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../src/client/index.ts';
import { webhookSignature } from '../../src/server/webhooks.ts';

const SECRET = 'webhook-secret-0123456789';
const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);

function signed(body: string, options: { secret?: string; at?: number } = {}) {
  const timestamp = String(Math.floor((options.at ?? NOW) / 1000));
  return {
    'x-steward-timestamp': timestamp,
    'x-steward-signature': webhookSignature(options.secret ?? SECRET, timestamp, body),
    'x-steward-delivery': 'd',
  };
}

const notification = {
  type: 'question.resolved',
  deliveryId: 'x/q0/answered',
  supervisorId: randomUUID(),
  owner: 'alice',
  version: 2,
  questionId: 'q0',
  resolution: 'answered',
};

describe('verifyWebhook', () => {
  const body = JSON.stringify(notification);

  it('returns the notification of a request the runtime signed', () => {
    expect(verifyWebhook({ secret: SECRET, headers: signed(body), body, now: NOW })).toEqual(
      notification,
    );
  });

  it('refuses a changed body, another secret, or no signature', () => {
    const tampered = body.replace('"answered"', '"withdrawn"');
    for (const attempt of [
      { headers: signed(body), body: tampered },
      { headers: signed(body, { secret: 'another-secret-0123456789' }), body },
      { headers: { 'x-steward-timestamp': String(NOW / 1000) }, body },
    ]) {
      expect(() => verifyWebhook({ secret: SECRET, now: NOW, ...attempt })).toThrow(
        expect.objectContaining({ code: 'ERR_WEBHOOK_SIGNATURE' }),
      );
    }
  });

  it('refuses a replay signed outside the tolerance', () => {
    const headers = signed(body, { at: NOW - 301_000 });
    expect(() => verifyWebhook({ secret: SECRET, headers, body, now: NOW })).toThrow(
      expect.objectContaining({ code: 'ERR_WEBHOOK_STALE' }),
    );
    expect(
      verifyWebhook({ secret: SECRET, headers, body, now: NOW, toleranceSeconds: 600 }),
    ).toEqual(notification);
  });

  it('refuses a signed body that is not a notification', () => {
    const odd = JSON.stringify({ ...notification, resolution: 'eaten' });
    expect(() =>
      verifyWebhook({ secret: SECRET, headers: signed(odd), body: odd, now: NOW }),
    ).toThrow(expect.objectContaining({ code: 'ERR_WEBHOOK_INVALID' }));
  });
});
