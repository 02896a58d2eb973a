// A client answering as a well-behaved program would: every answer sent until the server
// takes it, "not now" refusals retried, everything it was told recorded for the checks.
import type { ServerFrame } from '../../src/protocol/frames.ts';
import type { TestClient } from './wsTestClient.ts';

/** The refusals that mean "not now": the client sends the same answer again. */
export const RETRIED = new Set(['ERR_DATABASE_UNAVAILABLE', 'ERR_COMMIT_IN_DOUBT']);

export interface Acked {
  supervisorId: string;
  questionId: string;
  version: number;
  duplicate: boolean;
  at: number;
}

/** What the client was told, in order. */
export interface AnswerLog {
  acked: Acked[];
  /** Every refusal, by code. */
  refusals: Map<string, number>;
  /** Replies that took longer than this many ms (the slowest reply). */
  slowestReplyMs: number;
}

export function createAnswerLog(): AnswerLog {
  return { acked: [], refusals: new Map(), slowestReplyMs: 0 };
}

/**
 * Sends one answer until it is acknowledged; a refusal outside `RETRIED` throws. Each
 * reply is awaited for at most `replyTimeoutMs`: no reply at all is a failure.
 */
export async function answerUntilAcked(
  client: TestClient,
  log: AnswerLog,
  answer: { supervisorId: string; questionId: string; value: unknown },
  options: { retryMs?: number; replyTimeoutMs?: number } = {},
): Promise<Acked> {
  for (;;) {
    const sent = Date.now();
    const reply: ServerFrame = await Promise.race([
      client.request({ type: 'answer', ...answer }, options.replyTimeoutMs ?? 60_000),
      client.closed.then((code) => {
        throw new Error(`the connection closed (${code}) before the reply`);
      }),
    ]);
    log.slowestReplyMs = Math.max(log.slowestReplyMs, Date.now() - sent);
    if (reply.type === 'answer.ack') {
      const acked = {
        supervisorId: answer.supervisorId,
        questionId: answer.questionId,
        version: reply.version,
        duplicate: reply.duplicate,
        at: Date.now(),
      };
      log.acked.push(acked);
      return acked;
    }
    if (reply.type !== 'error' || !RETRIED.has(reply.code)) {
      throw new Error(`answer ${answer.questionId} refused: ${JSON.stringify(reply)}`);
    }
    log.refusals.set(reply.code, (log.refusals.get(reply.code) ?? 0) + 1);
    await new Promise((resolve) => setTimeout(resolve, options.retryMs ?? 100));
  }
}
