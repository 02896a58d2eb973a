// The audit trail of commands from outside: each one is journaled with who asked for it,
// queued on its live supervisor (LiveSupervisor.record) so that it commits with the very
// snapshot the command caused, never apart from it. Its idempotency key rides in the same
// entry: a key is durable exactly when its effect is.
import { type CommandOptions, idempotencyFields } from '../model/requester.ts';
import type { PendingEntry } from './live/liveEvents.ts';

/** A command from outside, as its journal entry names it. */
export type CommandName = 'spawn' | 'event' | 'pause' | 'resume' | 'cancel';

const NAMED: Readonly<Record<string, CommandName>> = Object.freeze({
  'supervisor.pause': 'pause',
  'supervisor.resume': 'resume',
  'supervisor.cancel': 'cancel',
});

/** The `command` entry of `command`, asked for by `options.by` (`null`: an embedder's own call). */
export function commandEntry(
  command: CommandName,
  options: CommandOptions,
  details: Record<string, unknown> = {},
): PendingEntry {
  return {
    kind: 'command',
    payload: {
      command,
      by: options.by ?? null,
      ...details,
      ...idempotencyFields(options.idempotency),
    },
  };
}

/**
 * The entry of an external event: pause, resume and cancel by their names (a cancel with
 * its reason), any other event as `event` with its type. Journaled alike whether it came
 * by its own route or as `POST /supervisors/:id/events`.
 */
export function eventEntry(
  event: { type: string; reason?: unknown },
  options: CommandOptions,
): PendingEntry {
  const command = NAMED[event.type];
  if (command === undefined) return commandEntry('event', options, { event: event.type });
  if (command !== 'cancel') return commandEntry(command, options);
  return commandEntry(command, options, {
    reason: typeof event.reason === 'string' ? event.reason : null,
  });
}
