import { z } from 'zod';
import { PendingQuestion } from '../model/supervisor.ts';

/** Headers of a webhook request. */
export const WEBHOOK_HEADERS = {
  /** The notification's `deliveryId`: a receiver drops one it has seen. */
  delivery: 'x-steward-delivery',
  /** Unix seconds when the request was signed. */
  timestamp: 'x-steward-timestamp',
  /** `sha256=` and the hex HMAC-SHA256 of `webhookSignedText(timestamp, body)`. */
  signature: 'x-steward-signature',
} as const;

/** What the webhook signature covers: the timestamp too, so a request cannot be replayed later. */
export function webhookSignedText(timestamp: string, body: string): string {
  return `${timestamp}.${body}`;
}

const About = {
  /**
   * The same for the same notification sent again (after a retry or a restore), different
   * for a question asked anew under the same id: a receiver drops an id it has handled.
   */
  deliveryId: z.string().min(1),
  supervisorId: z.uuid(),
  owner: z.string().nullable(),
  /** The committed version the notification reflects. */
  version: z.number().int().nonnegative(),
};

/** The body of a webhook request (docs/protocol.md#webhooks). */
export const WebhookNotification = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('question.asked'),
    ...About,
    question: PendingQuestion,
    /** True once its escalation came: `question.escalation.audience` is asked too. */
    escalated: z.boolean(),
    /** True when this notification is its reminder (`question.remindAt` came). */
    reminder: z.boolean(),
  }),
  z.object({
    type: z.literal('question.resolved'),
    ...About,
    questionId: z.string().min(1),
    resolution: z.enum(['answered', 'withdrawn', 'expired']),
  }),
]);
export type WebhookNotification = z.infer<typeof WebhookNotification>;
