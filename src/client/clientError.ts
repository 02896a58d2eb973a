import type { ErrorFrame } from '../protocol/frames.ts';

/**
 * Codes only the client reports. `ERR_CLIENT_CLOSED`: the client was closed before the
 * request settled. `ERR_TIMEOUT`: an answer was not acknowledged in time; it may or may not
 * have been applied, and sending it again is safe. `ERR_UNSUBSCRIBED`: a subscription was
 * taken back before the server confirmed it. `ERR_WEBHOOK_*`: `verifyWebhook` refused a
 * request (signature, age, body).
 */
export type ClientOnlyErrorCode =
  | 'ERR_CLIENT_CLOSED'
  | 'ERR_TIMEOUT'
  | 'ERR_UNSUBSCRIBED'
  | 'ERR_WEBHOOK_SIGNATURE'
  | 'ERR_WEBHOOK_STALE'
  | 'ERR_WEBHOOK_INVALID';

/**
 * Server codes that say "not done, try again": the client retries these itself. Every
 * other refusal is definitive and rejects the caller's promise.
 */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'ERR_COMMIT_IN_DOUBT',
  'ERR_DATABASE_UNAVAILABLE',
  'ERR_NOT_DURABLE',
  'ERR_RUNTIME_STOPPED',
  'ERR_INTERNAL',
]);

/**
 * The error every client promise rejects with. `code` is the server's code exactly as sent
 * when the server refused the request (listed in docs/protocol.md: ERR_QUESTION_NOT_PENDING,
 * ERR_ANSWER_INVALID, ERR_FORBIDDEN, ERR_UNAUTHENTICATED, …), or a `ClientOnlyErrorCode`.
 * `issues` carries the validation issues the server sent.
 *
 * @example
 * try {
 *   await client.answer(supervisorId, 'q0', 'not a number');
 * } catch (error) {
 *   if (isStewardClientError(error, 'ERR_ANSWER_INVALID')) console.log(error.issues);
 * }
 */
export class StewardClientError extends Error {
  override readonly name = 'StewardClientError';

  constructor(
    readonly code: string,
    message: string,
    readonly issues: NonNullable<ErrorFrame['issues']> = [],
  ) {
    super(message);
  }

  /** The error an `error` frame describes. */
  static fromFrame(frame: ErrorFrame): StewardClientError {
    return new StewardClientError(frame.code, frame.message, frame.issues ?? []);
  }
}

/**
 * True when `error` is a StewardClientError with the given code (any code when omitted).
 *
 * @example
 * if (isStewardClientError(error, 'ERR_QUESTION_NOT_PENDING')) return; // someone else answered
 */
export function isStewardClientError(error: unknown, code?: string): error is StewardClientError {
  return error instanceof StewardClientError && (code === undefined || error.code === code);
}
