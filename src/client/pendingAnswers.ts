import { randomUUID } from 'node:crypto';
import type { ClientFrame, ErrorFrame, ServerFrame } from '../protocol/frames.ts';
import { type BackoffPolicy, backoffDelay } from './backoff.ts';
import { RETRYABLE_CODES, StewardClientError } from './clientError.ts';
import type { ClientLog } from './clientLog.ts';

/** What the server acknowledged: the committed version that holds the answer. */
export interface AnswerAck {
  supervisorId: string;
  questionId: string;
  version: number;
  /** True when the question had already been answered with this value (by this client's earlier try or anyone). */
  duplicate: boolean;
}

interface PendingAnswer {
  supervisorId: string;
  questionId: string;
  value: unknown;
  /** The request id of the copy in flight on the current connection; null when none is. */
  requestId: string | null;
  /** Refused with a retryable code: waiting to send again. */
  retry: NodeJS.Timeout | undefined;
  retries: number;
  deadline: NodeJS.Timeout | undefined;
  resolve(ack: AnswerAck): void;
  reject(error: StewardClientError): void;
}

interface PendingAnswersOptions {
  /** Sends on the current connection; false when there is none. */
  send(frame: ClientFrame): boolean;
  backoff: BackoffPolicy;
  log: ClientLog;
}

/**
 * Answers until the server acknowledges them. An answer whose connection drops, or that the
 * server refuses with a retryable code, is sent again — the same value under a new request
 * id — which is safe because the server applies an answer to a question once and
 * acknowledges every repeat as a duplicate.
 */
export interface PendingAnswers {
  add(
    supervisorId: string,
    questionId: string,
    value: unknown,
    timeoutMs: number,
  ): Promise<AnswerAck>;
  /** Settles the answer a reply is for; false when the reply is not about an answer. */
  onReply(frame: ServerFrame): boolean;
  /** A connection is ready: sends every answer not in flight. */
  sendWaiting(): void;
  /** The connection dropped: nothing is in flight any more. */
  connectionLost(): void;
  rejectAll(error: StewardClientError): void;
}

export function createPendingAnswers(options: PendingAnswersOptions): PendingAnswers {
  const { log } = options;
  const all = new Set<PendingAnswer>();
  const byRequest = new Map<string, PendingAnswer>();

  function trySend(answer: PendingAnswer): void {
    const requestId = randomUUID();
    const sent = options.send({
      type: 'answer',
      requestId,
      supervisorId: answer.supervisorId,
      questionId: answer.questionId,
      value: answer.value,
    });
    if (!sent) return;
    answer.requestId = requestId;
    byRequest.set(requestId, answer);
  }

  function settle(answer: PendingAnswer): void {
    all.delete(answer);
    if (answer.requestId !== null) byRequest.delete(answer.requestId);
    clearTimeout(answer.retry);
    clearTimeout(answer.deadline);
  }

  function refused(answer: PendingAnswer, frame: ErrorFrame): void {
    byRequest.delete(answer.requestId ?? '');
    answer.requestId = null;
    if (!RETRYABLE_CODES.has(frame.code)) {
      settle(answer);
      answer.reject(StewardClientError.fromFrame(frame));
      return;
    }
    const wait = backoffDelay(answer.retries++, options.backoff);
    log.warn(
      {
        code: frame.code,
        supervisorId: answer.supervisorId,
        questionId: answer.questionId,
        retryInMs: wait,
      },
      'steward client: answer not taken yet, sending it again',
    );
    answer.retry = setTimeout(() => {
      answer.retry = undefined;
      trySend(answer);
    }, wait);
  }

  return {
    add(supervisorId, questionId, value, timeoutMs) {
      return new Promise<AnswerAck>((resolve, reject) => {
        const answer: PendingAnswer = {
          supervisorId,
          questionId,
          value,
          requestId: null,
          retry: undefined,
          retries: 0,
          deadline: undefined,
          resolve,
          reject,
        };
        if (Number.isFinite(timeoutMs)) {
          answer.deadline = setTimeout(() => {
            settle(answer);
            reject(
              new StewardClientError(
                'ERR_TIMEOUT',
                `the answer to ${questionId} of ${supervisorId} was not acknowledged within ${timeoutMs} ms; it may have been applied, and sending it again is safe`,
              ),
            );
          }, timeoutMs);
        }
        all.add(answer);
        trySend(answer);
      });
    },
    onReply(frame) {
      if (frame.type !== 'answer.ack' && frame.type !== 'error') return false;
      const answer = frame.requestId === null ? undefined : byRequest.get(frame.requestId);
      if (!answer) return false;
      if (frame.type === 'error') {
        refused(answer, frame);
        return true;
      }
      settle(answer);
      answer.resolve({
        supervisorId: frame.supervisorId,
        questionId: frame.questionId,
        version: frame.version,
        duplicate: frame.duplicate,
      });
      return true;
    },
    sendWaiting() {
      for (const answer of all) {
        if (answer.requestId === null && answer.retry === undefined) trySend(answer);
      }
    },
    connectionLost() {
      byRequest.clear();
      for (const answer of all) answer.requestId = null;
    },
    rejectAll(error) {
      for (const answer of [...all]) {
        settle(answer);
        answer.reject(error);
      }
    },
  };
}
