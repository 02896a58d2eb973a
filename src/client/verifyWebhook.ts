import { createHmac, timingSafeEqual } from 'node:crypto';
import { WEBHOOK_HEADERS, WebhookNotification, webhookSignedText } from '../protocol/webhook.ts';
import { StewardClientError } from './clientError.ts';

/** What `verifyWebhook` needs of a received request. */
export interface ReceivedWebhook {
  /** The shared secret (`STEWARD_WEBHOOK_SECRET` of the runtime). */
  secret: string;
  /** The request's headers, as Node gives them (lower-case names). */
  headers: Record<string, string | string[] | undefined>;
  /** The raw body, exactly as received: the signature covers these bytes. */
  body: string;
  /** Requests signed longer ago than this are refused as replays. Default 300 s. */
  toleranceSeconds?: number;
  /** Now, in ms since the epoch (tests). */
  now?: number;
}

function header(headers: ReceivedWebhook['headers'], name: string): string {
  const value = headers[name];
  return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
}

/**
 * Checks a webhook request from a Steward runtime and returns its notification. Throws a
 * StewardClientError: `ERR_WEBHOOK_SIGNATURE` (wrong or missing signature; compared in
 * constant time), `ERR_WEBHOOK_STALE` (signed outside the tolerance: a replay), or
 * `ERR_WEBHOOK_INVALID` (a signed body that is not a notification). Delivery is at least
 * once: drop a `deliveryId` already handled.
 *
 * @example
 * const notification = verifyWebhook({ secret, headers: request.headers, body });
 * if (notification.type === 'question.asked') notify(notification.question.prompt);
 */
export function verifyWebhook(request: ReceivedWebhook): WebhookNotification {
  const timestamp = header(request.headers, WEBHOOK_HEADERS.timestamp);
  const presented = Buffer.from(header(request.headers, WEBHOOK_HEADERS.signature));
  const mac = createHmac('sha256', request.secret).update(
    webhookSignedText(timestamp, request.body),
  );
  const expected = Buffer.from(`sha256=${mac.digest('hex')}`);
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    throw new StewardClientError('ERR_WEBHOOK_SIGNATURE', 'the webhook signature does not match');
  }
  const signedAt = Number(timestamp) * 1000;
  const tolerance = (request.toleranceSeconds ?? 300) * 1000;
  if (!Number.isFinite(signedAt) || Math.abs((request.now ?? Date.now()) - signedAt) > tolerance) {
    throw new StewardClientError(
      'ERR_WEBHOOK_STALE',
      `the webhook was signed at ${timestamp}, outside the tolerance: refused as a replay`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(request.body);
  } catch {
    throw new StewardClientError('ERR_WEBHOOK_INVALID', 'the webhook body is not JSON');
  }
  const parsed = WebhookNotification.safeParse(json);
  if (!parsed.success) {
    throw new StewardClientError('ERR_WEBHOOK_INVALID', 'the webhook body is not a notification');
  }
  return parsed.data;
}
