// Every HTTP request has an id: the client's `X-Request-Id` when it sent a sensible one,
// else one generated here. It is returned in the response header and journaled with the
// command it carried, so a client's log line and the supervisor's journal meet.
import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Requester } from '../model/requester.ts';
import type { Principal } from './auth.ts';

/** The header a request id travels in, both ways. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

// Visible ASCII only, bounded: the id lands in logs and the journal, where a newline or a
// megabyte would do harm. Anything else is replaced rather than refused: it is only a label.
const SENSIBLE_ID = /^[\x21-\x7e]{1,200}$/;

/** Sets `requestId` (the client's or a new UUID) and echoes it in the response header. */
export function requestIds(): MiddlewareHandler<{ Variables: { requestId: string } }> {
  return async (c, next) => {
    const sent = c.req.header(REQUEST_ID_HEADER);
    const requestId = sent !== undefined && SENSIBLE_ID.test(sent) ? sent : randomUUID();
    c.set('requestId', requestId);
    c.header(REQUEST_ID_HEADER, requestId);
    await next();
  };
}

/**
 * Who asks, as the journal records it: the principal's owner, name and admin flag (never
 * the token) with the request's id.
 *
 * @example
 * await host.pause(id, { by: requesterOf(principal, c.get('requestId')) });
 */
export function requesterOf(principal: Principal, requestId: string | null): Requester {
  return {
    owner: principal.owner,
    name: principal.label,
    admin: principal.admin,
    requestId,
  };
}
