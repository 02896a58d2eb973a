import { z } from 'zod';

/**
 * Who asked for a command or gave an answer, and in which request, as the journal records
 * it: the token's owner, name and admin flag, never the token itself. The time is the
 * journal entry's own `createdAt`, written in the commit that carries the command's effect.
 *
 * @example
 * const by: Requester = { owner: 'alice', name: 'alice#0', admin: false, requestId: 'r-1' };
 * await host.pause(id, { by });
 */
export const Requester = z.strictObject({
  /** The owner the token speaks for; `null` for an admin token without one. */
  owner: z.string().nullable(),
  /** The token's name (`Principal.label`), for people reading the trail. */
  name: z.string(),
  admin: z.boolean(),
  /** HTTP: `X-Request-Id` (sent or generated); WebSocket: the frame's `requestId`. */
  requestId: z.string().nullable(),
});
export type Requester = z.infer<typeof Requester>;

/** Options of a command of the host: who asked for it (journaled with its effect). */
export interface CommandOptions {
  /** Recorded in the command's journal entry; unset (an embedder's own call): `null`. */
  by?: Requester | null;
}
