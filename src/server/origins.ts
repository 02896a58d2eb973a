import type { IncomingMessage } from 'node:http';

/**
 * Browsers send `Origin` with a WebSocket upgrade and let any page open one, so a page on
 * another site could reach the runtime with a user's stored token. Allowed: no Origin (not
 * a browser), the server's own origin, or one on the allow-list (`*` allows every origin).
 */
export function isOriginAllowed(request: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (allowed.includes('*') || allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}
