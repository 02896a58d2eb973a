import { createHmac } from 'node:crypto';
import type { Logger } from '../logger.ts';
import { isEscalated, type PendingQuestion } from '../model/supervisor.ts';
import {
  WEBHOOK_HEADERS,
  type WebhookNotification,
  webhookSignedText,
} from '../protocol/webhook.ts';
import type { CommittedChange } from '../runtime/commit/committedChanges.ts';
import type { SupervisorHost } from '../runtime/supervisorHost.ts';

/** Where question notifications go, and how they are signed. */
export interface WebhookOptions {
  host: SupervisorHost;
  /** The endpoint: every notification is POSTed to it as JSON. */
  url: string;
  /** HMAC-SHA256 key of the `x-steward-signature` header. */
  secret: string;
  log: Logger;
  /** A request that takes longer fails (and is retried). Default 10 s. */
  timeoutMs?: number;
  /** Waits between attempts: doubling from `retryInitialMs` to `retryMaxMs`. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Notifications waiting at most; past it the oldest is dropped with a warning. */
  maxQueued?: number;
  /** Requests in flight at once. Default 4. */
  concurrency?: number;
  /** Told of every request's outcome (metrics). */
  onOutcome?: (outcome: 'delivered' | 'failed' | 'dropped') => void;
}

/** Sends question notifications to a webhook; `close()` stops it. */
export interface WebhookNotifier {
  /** Notifications not delivered yet: waiting, on their way, or waiting to be sent again. */
  readonly queued: number;
  close(): void;
}

interface Job {
  notification: WebhookNotification;
  attempts: number;
  /** For `question.asked`: the key that its resolution cancels. */
  questionKey: string;
}

/** The `x-steward-signature` of a request (receivers check it with `verifyWebhook`). */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  const mac = createHmac('sha256', secret).update(webhookSignedText(timestamp, body));
  return `sha256=${mac.digest('hex')}`;
}

/**
 * The time it was asked (or followed up), not the version: a restore asks it again with
 * another version but the same id, asking the same question id anew gets another, and so
 * does each follow-up. A restore after its escalation sends the escalation's id: a receiver
 * that missed the escalation's own notification learns of it then.
 */
function askedDeliveryId(
  supervisorId: string,
  question: PendingQuestion,
  followUp: 'reminder' | 'escalation' | undefined,
  escalated: boolean,
): string {
  const prefix = `${supervisorId}/${question.id}`;
  if (followUp === 'reminder') return `${prefix}/reminder/${question.remindAt}`;
  if (escalated) return `${prefix}/escalated/${question.escalation?.at}`;
  return `${prefix}/asked/${question.askedAt}`;
}

function notificationOf(change: CommittedChange): WebhookNotification | null {
  const base = { supervisorId: change.supervisorId, owner: change.owner, version: change.version };
  if (change.type === 'question.asked') {
    const { question, followUp } = change;
    const escalated = followUp === 'escalation' || isEscalated(question);
    return {
      type: 'question.asked',
      deliveryId: askedDeliveryId(change.supervisorId, question, followUp, escalated),
      ...base,
      question,
      escalated,
      reminder: followUp === 'reminder',
    };
  }
  if (change.type === 'question.resolved') {
    return {
      type: 'question.resolved',
      deliveryId: `${change.supervisorId}/${change.questionId}/${change.resolution}/${change.version}`,
      ...base,
      questionId: change.questionId,
      resolution: change.resolution,
    };
  }
  return null;
}

/**
 * Tells a webhook about questions as they are committed: `question.asked` and
 * `question.resolved`, signed, retried with backoff until the endpoint answers 2xx. A
 * question resolved before its notification went out is not announced any more. The queue
 * lives in memory, but nothing pending is missed across a crash: restoring a supervisor
 * asks its pending questions again, and they are notified again (same `deliveryId`).
 */
export function startWebhookNotifier(options: WebhookOptions): WebhookNotifier {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retryInitialMs = options.retryInitialMs ?? 500;
  const retryMaxMs = options.retryMaxMs ?? 60_000;
  const maxQueued = options.maxQueued ?? 10_000;
  const concurrency = options.concurrency ?? 4;
  const { log } = options;
  const queue: Job[] = [];
  /**
   * The `asked` notifications (delivery ids) not delivered yet, by question: its resolution
   * drops them all, a delivery only its own (a reminder still goes after the first ask).
   */
  const undelivered = new Map<string, Set<string>>();
  const isUndelivered = (job: Job) =>
    undelivered.get(job.questionKey)?.has(job.notification.deliveryId) === true;
  function delivered(job: Job): void {
    const ids = undelivered.get(job.questionKey);
    ids?.delete(job.notification.deliveryId);
    if (ids?.size === 0) undelivered.delete(job.questionKey);
  }
  const timers = new Set<NodeJS.Timeout>();
  let inFlight = 0;
  let closed = false;

  function enqueue(job: Job): void {
    if (queue.length >= maxQueued) {
      const dropped = queue.shift();
      options.onOutcome?.('dropped');
      log.warn(
        { deliveryId: dropped?.notification.deliveryId, maxQueued },
        'webhook queue full: the oldest notification was dropped',
      );
    }
    queue.push(job);
    pump();
  }

  function pump(): void {
    while (!closed && inFlight < concurrency && queue.length > 0) {
      const job = queue.shift() as Job;
      const { notification } = job;
      // Resolved meanwhile: nobody needs to be asked any more.
      if (notification.type === 'question.asked' && !isUndelivered(job)) continue;
      inFlight++;
      void send(job).finally(() => {
        inFlight--;
        pump();
      });
    }
  }

  async function send(job: Job): Promise<void> {
    const body = JSON.stringify(job.notification);
    const timestamp = String(Math.floor(Date.now() / 1000));
    job.attempts++;
    let failure: string;
    try {
      const response = await fetch(options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [WEBHOOK_HEADERS.delivery]: job.notification.deliveryId,
          [WEBHOOK_HEADERS.timestamp]: timestamp,
          [WEBHOOK_HEADERS.signature]: webhookSignature(options.secret, timestamp, body),
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.body?.cancel().catch(() => {});
      if (response.ok) {
        options.onOutcome?.('delivered');
        if (job.notification.type === 'question.asked') delivered(job);
        return;
      }
      failure = `HTTP ${response.status}`;
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    options.onOutcome?.('failed');
    if (closed) return;
    const wait = Math.min(retryMaxMs, retryInitialMs * 2 ** (job.attempts - 1));
    log.warn(
      { deliveryId: job.notification.deliveryId, attempts: job.attempts, failure, retryInMs: wait },
      'webhook delivery failed; retrying',
    );
    const timer = setTimeout(() => {
      timers.delete(timer);
      enqueue(job);
    }, wait);
    timers.add(timer);
  }

  const unsubscribe = options.host.subscribe((change) => {
    const notification = notificationOf(change);
    if (!notification) return;
    const questionKey = `${change.supervisorId}\u0000${
      notification.type === 'question.asked' ? notification.question.id : notification.questionId
    }`;
    if (notification.type === 'question.asked') {
      const ids = undelivered.get(questionKey) ?? new Set<string>();
      undelivered.set(questionKey, ids.add(notification.deliveryId));
    } else undelivered.delete(questionKey);
    enqueue({ notification, attempts: 0, questionKey });
  });

  return {
    get queued() {
      return queue.length + inFlight + timers.size;
    },
    close() {
      closed = true;
      unsubscribe();
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      queue.length = 0;
    },
  };
}
