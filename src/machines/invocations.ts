import type { AnyActorRef } from 'xstate';
import { rootOf } from './xstateInternals.ts';

/**
 * A stable idempotency key for work a supervisor invokes (`invoke: { src, input }`). A
 * restored supervisor runs an invoked promise or callback that was running again, with the
 * input it was first given (at least once), so compute the key into that input: it names
 * the supervisor, the invocation and which entry into its state this is. Count entries in
 * context (an action on the transition into the state) so a later entry gets a new key.
 *
 * @example
 * invoke: {
 *   id: 'charge',
 *   src: 'chargeCard',
 *   input: ({ self, context }) => ({ key: invocationKey(self, 'charge', context.chargeAttempts) }),
 * }
 */
export function invocationKey(self: AnyActorRef, invokeId: string, entry: number): string {
  return `${rootOf(self).id}:${invokeId}:${entry}`;
}
