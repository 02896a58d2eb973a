import {
  type AnyErrorCode,
  type ClientErrorCode,
  ERROR_REGISTRY,
  type ErrorCode,
} from '../protocol/errorCodes.ts';
import type { ErrorFrame, RecordedAnswer } from '../protocol/frames.ts';

// The client's own codes (ERR_CLIENT_CLOSED, ERR_TIMEOUT, ERR_UNSUBSCRIBED, ERR_WEBHOOK_*)
// are declared in the error registry with the server's; docs/protocol.md lists them all.
export type { ClientErrorCode, ClientOnlyErrorCode } from '../protocol/errorCodes.ts';

/**
 * Server codes that say "not done, try again": the client retries these itself. Every
 * other refusal is definitive and rejects the caller's promise. Read from the registry's
 * `retryable`.
 *
 * @example
 * if (RETRYABLE_CODES.has(error.code)) scheduleRetry();
 */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set(
  (Object.keys(ERROR_REGISTRY) as AnyErrorCode[]).filter(
    (code): code is ErrorCode => ERROR_REGISTRY[code].retryable,
  ),
);

/** What a `StewardClientError` carries besides its code and message. */
export interface StewardClientErrorDetails {
  /** The validation issues the server sent. */
  issues?: NonNullable<ErrorFrame['issues']>;
  /** With `ERR_ALREADY_ANSWERED`: the answer that stands. */
  recorded?: RecordedAnswer | undefined;
  /** An HTTP error body's `details` (offending ids, hints; `issues` among them). */
  details?: Readonly<Record<string, unknown>>;
  /** The HTTP status of the response that carried the error. */
  status?: number | undefined;
}

/**
 * The error every client promise rejects with, on the WebSocket side and the HTTP side
 * alike. `code` is the server's code exactly as sent when the server refused the request
 * (listed in docs/protocol.md: ERR_QUESTION_NOT_PENDING, ERR_ALREADY_ANSWERED,
 * ERR_ANSWER_INVALID, ERR_FORBIDDEN, ERR_UNAUTHENTICATED, …), or a `ClientOnlyErrorCode`.
 * `issues` carries the validation issues the server sent; `recorded` the answer that
 * stands, with `ERR_ALREADY_ANSWERED` (another value won); `details` an HTTP error body's
 * details (`{}` from a frame); `status` the HTTP status (undefined from a frame, or when no
 * response came).
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
  readonly issues: NonNullable<ErrorFrame['issues']>;
  /** With `ERR_ALREADY_ANSWERED`: the answer that stands. */
  readonly recorded: RecordedAnswer | undefined;
  readonly details: Readonly<Record<string, unknown>>;
  readonly status: number | undefined;

  constructor(
    readonly code: ClientErrorCode,
    message: string,
    more: StewardClientErrorDetails = {},
  ) {
    super(message);
    this.issues = more.issues ?? [];
    this.recorded = more.recorded;
    this.details = more.details ?? {};
    this.status = more.status;
  }

  /** The error an `error` frame describes. */
  static fromFrame(frame: ErrorFrame): StewardClientError {
    return new StewardClientError(frame.code, frame.message, {
      issues: frame.issues ?? [],
      recorded: frame.recorded,
    });
  }
}

/** What `isStewardClientError` narrows to: with `ERR_ALREADY_ANSWERED`, `recorded` is there. */
export type StewardClientErrorOf<C extends ClientErrorCode> = StewardClientError & {
  readonly code: C;
} & (C extends 'ERR_ALREADY_ANSWERED' ? { readonly recorded: RecordedAnswer } : unknown);

/**
 * True when `error` is a StewardClientError with the given code (any code when omitted).
 *
 * @example
 * if (isStewardClientError(error, 'ERR_QUESTION_NOT_PENDING')) return; // withdrawn
 * if (isStewardClientError(error, 'ERR_ALREADY_ANSWERED')) use(error.recorded.value); // lost
 */
export function isStewardClientError<C extends ClientErrorCode = ClientErrorCode>(
  error: unknown,
  code?: C,
): error is StewardClientErrorOf<C> {
  return error instanceof StewardClientError && (code === undefined || error.code === code);
}
