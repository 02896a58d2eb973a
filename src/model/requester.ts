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

/**
 * The idempotency key a command came with, and the hash of the request it came in: both
 * are written into the command's journal entry, in the commit of its effect, so that a
 * repeat of the request finds them (the HTTP API's `Idempotency-Key`).
 */
export interface Idempotency {
  /** The client's key, 1-255 printable ASCII characters. */
  key: string;
  /** sha256 (hex) of what the request asked: the same key with another hash is a reuse. */
  requestHash: string;
}

/** The journal payload fields of an idempotency key, none without one. */
export function idempotencyFields(idempotency: Idempotency | undefined): Record<string, string> {
  if (!idempotency) return {};
  return { idempotencyKey: idempotency.key, requestHash: idempotency.requestHash };
}

/** Options of a command of the host: who asked for it (journaled with its effect). */
export interface CommandOptions {
  /** Recorded in the command's journal entry; unset (an embedder's own call): `null`. */
  by?: Requester | null;
  /**
   * Recorded in the command's journal entry (`idempotencyKey`, `requestHash`). The host
   * only records it: finding a repeat before executing it is the caller's (the HTTP API's).
   */
  idempotency?: Idempotency | undefined;
}
