import type { z } from 'zod';
import { ERROR_REGISTRY, type ErrorCode, StewardError } from '../errors.ts';

/**
 * The HTTP status for an error code, as the registry declares it; a code no HTTP response
 * is meant to carry (start-up, WebSocket only) that reaches one anyway is a 500.
 */
export function httpStatusOf(code: ErrorCode): number {
  return ERROR_REGISTRY[code].httpStatus ?? 500;
}

/**
 * The `error` of an HTTP error body: `{ code, message, details }`, and for
 * `ERR_ALREADY_ANSWERED` the answer that stands as `recorded`, where an `error` frame has it.
 */
export function errorBody(error: StewardError): Record<string, unknown> {
  const { recorded, ...details } = error.details;
  const body = { ...error.toJSON(), details };
  return recorded === undefined ? body : { ...body, recorded };
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
