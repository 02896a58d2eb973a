import type { z } from 'zod';
import { type ErrorCode, StewardError } from '../errors.ts';

/** The HTTP status of each error code a request can meet; anything else is a 500. */
const STATUS: Partial<Record<ErrorCode | 'ERR_INTERNAL', number>> = {
  ERR_VALIDATION: 400,
  ERR_EVENT_INVALID: 400,
  ERR_ANSWER_INVALID: 400,
  ERR_INPUT_INVALID: 400,
  ERR_MESSAGE_INVALID: 400,
  ERR_UNAUTHENTICATED: 401,
  ERR_FORBIDDEN: 403,
  ERR_ORIGIN_NOT_ALLOWED: 403,
  ERR_SUPERVISOR_NOT_FOUND: 404,
  ERR_ROUTE_NOT_FOUND: 404,
  ERR_SUPERVISOR_EXISTS: 409,
  ERR_SUPERVISOR_TERMINATED: 409,
  ERR_SUPERVISOR_NOT_RUNNING: 409,
  ERR_EVENT_NOT_ACCEPTED: 409,
  ERR_QUESTION_NOT_PENDING: 409,
  ERR_ANSWER_NOT_ACCEPTED: 409,
  ERR_STALE_VERSION: 409,
  ERR_MESSAGE_TOO_LARGE: 413,
  ERR_MACHINE_NOT_REGISTERED: 422,
  ERR_MACHINE_INVALID: 422,
  ERR_NOT_DURABLE: 503,
  ERR_COMMIT_IN_DOUBT: 503,
  ERR_DATABASE_UNAVAILABLE: 503,
  ERR_RUNTIME_STOPPED: 503,
};

/** The HTTP status for an error code. */
export function httpStatusOf(code: string): number {
  return STATUS[code as ErrorCode] ?? 500;
}

/** A request that does not fit its schema: `ERR_MESSAGE_INVALID`, with zod's issues. */
export function invalid(message: string, issues?: z.core.$ZodIssue[]): StewardError {
  return new StewardError('ERR_MESSAGE_INVALID', message, issues ? { issues } : {});
}

/** A query string parsed by its schema, or `invalid`. */
export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.infer<S> {
  const parsed = schema.safeParse(query);
  if (!parsed.success) {
    throw invalid(`invalid query: ${parsed.error.issues[0]?.message}`, parsed.error.issues);
  }
  return parsed.data;
}

/** What a token is told of a supervisor it may not see, too: its existence does not leak. */
export function supervisorNotFound(id: string): StewardError {
  return new StewardError('ERR_SUPERVISOR_NOT_FOUND', `no supervisor with id ${id}`, { id });
}
