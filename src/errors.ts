/**
 * Every error Steward reports to a caller carries a stable `code` from this closed list.
 * Codes never change meaning; messages may be reworded. `docs/protocol.md` lists them.
 */
export const ERROR_CODES = [
  'ERR_CONFIG_INVALID',
  'ERR_PORT_IN_USE',
  'ERR_DATABASE_UNREACHABLE',
  'ERR_DATABASE_UNAVAILABLE',
  'ERR_DATA_DIR_IN_USE',
  'ERR_RUNTIME_ALREADY_RUNNING',
  'ERR_MIGRATION_CHECKSUM',
  'ERR_MIGRATION_FAILED',
  'ERR_DATABASE_NEWER',
  'ERR_SUPERVISOR_NOT_FOUND',
  'ERR_STALE_VERSION',
  'ERR_VALIDATION',
  'ERR_MACHINE_INVALID',
  'ERR_MACHINE_NOT_REGISTERED',
  'ERR_INPUT_INVALID',
  'ERR_SUPERVISOR_EXISTS',
  'ERR_SUPERVISOR_TERMINATED',
  'ERR_SUPERVISOR_NOT_RUNNING',
  'ERR_EVENT_INVALID',
  'ERR_EVENT_NOT_ACCEPTED',
  'ERR_QUESTION_NOT_PENDING',
  'ERR_ANSWER_INVALID',
  'ERR_ANSWER_NOT_ACCEPTED',
  'ERR_NOT_DURABLE',
  'ERR_COMMIT_IN_DOUBT',
  'ERR_RUNTIME_STOPPED',
  'ERR_MESSAGE_TOO_LARGE',
  'ERR_MESSAGE_INVALID',
  'ERR_MESSAGE_UNKNOWN_TYPE',
  'ERR_UNAUTHENTICATED',
  'ERR_FORBIDDEN',
  'ERR_ORIGIN_NOT_ALLOWED',
  'ERR_ROUTE_NOT_FOUND',
  'ERR_INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Structured detail attached to an error: zod issues, offending ids, hints. */
export type ErrorDetails = Readonly<Record<string, unknown>>;

/**
 * The one error class of the project.
 *
 * @example
 * throw new StewardError('ERR_SUPERVISOR_NOT_FOUND', `no supervisor ${id}`, { id });
 */
export class StewardError extends Error {
  override readonly name = 'StewardError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** A JSON-safe form: `Error` objects serialize to `{}` otherwise. */
  toJSON(): { code: ErrorCode; message: string; details: ErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** True when `error` is a StewardError with the given code (or any code when omitted). */
export function isStewardError(error: unknown, code?: ErrorCode): error is StewardError {
  return error instanceof StewardError && (code === undefined || error.code === code);
}
