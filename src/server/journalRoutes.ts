// A supervisor's whole journal over HTTP: paged newest first, or streamed as NDJSON a page
// at a time, so a journal of any size costs one page of memory.
import { type Context, Hono } from 'hono';
import type { SupervisorState } from '../model/supervisor.ts';
import type { JournalEvent } from '../model/task.ts';
import { JOURNAL_PAGE_DEFAULT, JOURNAL_PAGE_MAX, JournalQuery } from '../protocol/http.ts';
import type { SupervisorHost } from '../runtime/supervisorHost.ts';
import type { Principal } from './auth.ts';
import { parseQuery } from './httpErrors.ts';

type Env = { Variables: { principal: Principal; requestId: string } };

/** The supervisor the caller may see, or `ERR_SUPERVISOR_NOT_FOUND` (httpApi.ts#visible). */
type Visible = (c: Context<Env>, id: string) => Promise<SupervisorState>;

/** One page, newest first, and where the next one starts (one more is read to know). */
async function pageOf(
  host: Pick<SupervisorHost, 'journal'>,
  id: string,
  before: number | undefined,
  limit: number,
): Promise<{ entries: JournalEvent[]; nextBefore: number | null }> {
  const read = await host.journal(id, {
    ...(before === undefined ? {} : { before }),
    limit: limit + 1,
  });
  const entries = read.slice(0, limit);
  return { entries, nextBefore: read.length > limit ? (entries.at(-1)?.id ?? null) : null };
}

/**
 * The lines of the whole journal, newest first, read a page at a time as the client takes
 * them (a pull stream: a slow client holds one page, not the journal). `first` was read
 * before the response began, so a failure to read is an error response, not a cut stream.
 */
function ndjson(
  host: Pick<SupervisorHost, 'journal'>,
  id: string,
  first: { entries: JournalEvent[]; nextBefore: number | null },
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let page: typeof first | null = first;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (page === null) {
        controller.close();
        return;
      }
      const lines = page.entries.map((entry) => `${JSON.stringify(entry)}\n`).join('');
      const { nextBefore } = page;
      page = null;
      if (lines !== '') controller.enqueue(encoder.encode(lines));
      if (nextBefore !== null) page = await pageOf(host, id, nextBefore, JOURNAL_PAGE_MAX);
    },
  });
}

/**
 * `GET /supervisors/:id/journal?before=&limit=`: a page of the journal, newest first
 * (`limit` 100 by default, at most 1,000), `{ entries, nextBefore }`; with
 * `format=ndjson`, the whole journal as `application/x-ndjson`, one entry per line, newest
 * first. The same visibility as `GET /supervisors/:id`. Mounted behind authentication.
 *
 * @example
 * app.route('/supervisors', journalRoutes(host, visible));
 */
export function journalRoutes(host: Pick<SupervisorHost, 'journal'>, visible: Visible): Hono<Env> {
  const app = new Hono<Env>();
  app.get('/:id/journal', async (c) => {
    const query = parseQuery(JournalQuery, c.req.query());
    const { id } = await visible(c, c.req.param('id'));
    if (query.format === 'ndjson') {
      const first = await pageOf(host, id, query.before, JOURNAL_PAGE_MAX);
      return c.body(ndjson(host, id, first), 200, { 'Content-Type': 'application/x-ndjson' });
    }
    return c.json(await pageOf(host, id, query.before, query.limit ?? JOURNAL_PAGE_DEFAULT));
  });
  return app;
}
