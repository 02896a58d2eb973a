// The host's refusals, each with its code and a message that says what to do next. Kept
// apart so the entry points in supervisorHost.ts read as the flow they are.
import { StewardError } from '../errors.ts';

export function notFound(id: string): StewardError {
  return new StewardError('ERR_SUPERVISOR_NOT_FOUND', `no supervisor with id ${id}`, { id });
}

export function alreadyExists(id: string, why = 'already exists'): StewardError {
  return new StewardError('ERR_SUPERVISOR_EXISTS', `supervisor ${id} ${why}`, { id });
}

/** A finished supervisor: `what` is what cannot be done with it any more. */
export function terminated(id: string, state: string, what: string): StewardError {
  return new StewardError('ERR_SUPERVISOR_TERMINATED', `supervisor ${id} is ${state}${what}`, {
    id,
    state,
  });
}

/** Retrying a supervisor that has not finished (running, waiting, paused, being retried). */
export function notFinished(id: string, state: string): StewardError {
  return new StewardError(
    'ERR_SUPERVISOR_NOT_FINISHED',
    `supervisor ${id} is ${state}: only a failed or cancelled supervisor can be retried (cancel it first to start it over)`,
    { id, state },
  );
}

export function notRunning(id: string, message: string, state?: string): StewardError {
  return new StewardError('ERR_SUPERVISOR_NOT_RUNNING', message, {
    id,
    ...(state === undefined ? {} : { state }),
  });
}

export function stopping(): StewardError {
  return new StewardError('ERR_RUNTIME_STOPPED', 'the runtime is stopping');
}

export function databaseUnavailable(): StewardError {
  return new StewardError(
    'ERR_DATABASE_UNAVAILABLE',
    'the runtime has lost its database and is reconnecting; nothing was done: send it again shortly',
  );
}

export function invalidId(id: string): StewardError {
  return new StewardError('ERR_VALIDATION', `supervisor id ${id} is not a UUID`, { id });
}

export function invalidEvent(issues: unknown): StewardError {
  return new StewardError('ERR_EVENT_INVALID', 'an event is an object with a string `type`', {
    issues,
  });
}

export function eventNotAccepted(id: string, state: string, event: string): StewardError {
  return new StewardError(
    'ERR_EVENT_NOT_ACCEPTED',
    `supervisor ${id} in state ${state} has no transition for event ${event}`,
    { id, event },
  );
}
