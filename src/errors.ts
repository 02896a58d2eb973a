import type { ErrorCode } from './protocol/errorCodes.ts';

// Every code is declared once, in the registry: its HTTP status, whether the client retries
// it, and its line in docs/protocol.md. Re-exported here so that every folder allowed to
// see `src/errors.ts` sees the registry too.
export {
  ERROR_CODES,
  ERROR_REGISTRY,
  type ErrorCode,
  type ErrorCodeSpec,
} from './protocol/errorCodes.ts';

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
