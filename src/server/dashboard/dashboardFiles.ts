import { readFile } from 'node:fs/promises';
import { Hono } from 'hono';

const HTML = 'text/html; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';

/**
 * Every file of the dashboard by the URL it is served at. Nothing outside this list is
 * served, so no request path ever reaches the file system: there is nothing to traverse.
 */
export const DASHBOARD_FILES: Readonly<Record<string, { file: string; contentType: string }>> =
  Object.freeze({
    '/': { file: 'index.html', contentType: HTML },
    '/dashboard/dashboard.css': { file: 'dashboard.css', contentType: CSS },
    '/dashboard/app.js': { file: 'app.js', contentType: JS },
    '/dashboard/token.js': { file: 'token.js', contentType: JS },
    '/dashboard/api.js': { file: 'api.js', contentType: JS },
    '/dashboard/socket.js': { file: 'socket.js', contentType: JS },
    '/dashboard/store.js': { file: 'store.js', contentType: JS },
    '/dashboard/dom.js': { file: 'dom.js', contentType: JS },
    '/dashboard/diagram.js': { file: 'diagram.js', contentType: JS },
    '/dashboard/fleet.js': { file: 'fleet.js', contentType: JS },
    '/dashboard/fleetOrder.js': { file: 'fleetOrder.js', contentType: JS },
    '/dashboard/fleetHeartbeat.js': { file: 'fleetHeartbeat.js', contentType: JS },
    '/dashboard/machines.js': { file: 'machines.js', contentType: JS },
    '/dashboard/supervisor.js': { file: 'supervisor.js', contentType: JS },
    '/dashboard/answerForm.js': { file: 'answerForm.js', contentType: JS },
    '/dashboard/journal.js': { file: 'journal.js', contentType: JS },
    '/dashboard/controls.js': { file: 'controls.js', contentType: JS },
    '/dashboard/questions.js': { file: 'questions.js', contentType: JS },
    '/dashboard/inboxCard.js': { file: 'inboxCard.js', contentType: JS },
    '/dashboard/inboxOrder.js': { file: 'inboxOrder.js', contentType: JS },
    '/dashboard/inboxKeys.js': { file: 'inboxKeys.js', contentType: JS },
    '/dashboard/inboxBulk.js': { file: 'inboxBulk.js', contentType: JS },
    '/dashboard/questionTimes.js': { file: 'questionTimes.js', contentType: JS },
  });

// The page loads only its own files and talks only to its own origin (HTTP and WebSocket).
// Inline styles stay allowed: each statechart SVG carries its own <style> element.
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PUBLIC = new URL('./public/', import.meta.url);

/**
 * The dashboard's page, styles and ES modules, served without a token: they hold no data,
 * and the page asks for a token before it calls the API. Read from disk on each request so
 * an edited file shows on reload; `no-cache` makes browsers check every time too.
 *
 * @example
 * app.route('/', dashboardFiles()); // before the authentication middleware
 */
export function dashboardFiles(): Hono {
  const app = new Hono();
  for (const [path, { file, contentType }] of Object.entries(DASHBOARD_FILES)) {
    app.get(path, async (c) => {
      const text = await readFile(new URL(file, PUBLIC), 'utf8');
      c.header('Content-Type', contentType);
      c.header('Cache-Control', 'no-cache');
      c.header('X-Content-Type-Options', 'nosniff');
      if (contentType === HTML) {
        c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
        // The token may sit in the address bar's fragment for a moment: send no referrer.
        c.header('Referrer-Policy', 'no-referrer');
      }
      return c.body(text);
    });
  }
  return app;
}
