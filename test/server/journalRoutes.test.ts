// Issue 15, item 5: the whole journal of a supervisor over HTTP, paged newest first by
// `before`, or streamed as NDJSON.
import { expect, it } from 'vitest';
import { JournalEntry, JournalPage } from '../../src/protocol/http.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { TOKENS, useServer } from '../helpers/server.ts';

describeEachEngine('journal routes', (engine) => {
  const fixture = useServer(engine);
  const get = (path: string, token: string = TOKENS.alice) =>
    fetch(`${fixture.server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });

  /** A supervisor of alice's with its own entries and `extra` more written into its journal. */
  async function journalOf(extra: number): Promise<{ id: string; ids: number[] }> {
    const { id } = await fixture.host.spawn(
      'reference',
      { goal: 'g', steps: [] },
      { owner: 'alice' },
    );
    await fixture.db.query(
      `INSERT INTO supervisor_events (supervisor_id, version, kind, payload)
       SELECT $1, 1, 'command', jsonb_build_object('command', 'event', 'n', n)
       FROM generate_series(1, $2::int) AS n`,
      [id, extra],
    );
    const { rows } = await fixture.db.query<{ id: string }>(
      'SELECT id FROM supervisor_events WHERE supervisor_id = $1 ORDER BY id DESC',
      [id],
    );
    return { id, ids: rows.map((r) => Number(r.id)) };
  }

  it('pages through more than 1,000 entries newest first, each exactly once', async () => {
    const { id, ids } = await journalOf(1_000);
    expect(ids.length).toBeGreaterThan(1_000);
    const seen: number[] = [];
    let before: number | null = null;
    let pages = 0;
    do {
      const query: string = before === null ? '?limit=97' : `?limit=97&before=${before}`;
      const response = await get(`/supervisors/${id}/journal${query}`);
      expect(response.status).toBe(200);
      const page = JournalPage.parse(await response.json());
      expect(page.entries.length).toBeLessThanOrEqual(97);
      seen.push(...page.entries.map((e) => e.id));
      before = page.nextBefore;
      pages++;
    } while (before !== null);
    expect(seen).toEqual(ids);
    expect(pages).toBe(Math.ceil(ids.length / 97));
  });

  it('gives 100 entries by default and 1,000 at most', async () => {
    const { id, ids } = await journalOf(1_100);
    const first = JournalPage.parse(await (await get(`/supervisors/${id}/journal`)).json());
    expect(first.entries.map((e) => e.id)).toEqual(ids.slice(0, 100));
    expect(first.nextBefore).toBe(ids[99]);
    const most = JournalPage.parse(
      await (await get(`/supervisors/${id}/journal?limit=1000`)).json(),
    );
    expect(most.entries).toHaveLength(1_000);
    for (const bad of ['limit=1001', 'limit=0', 'before=abc', 'before=-1', 'format=xml']) {
      const refused = await get(`/supervisors/${id}/journal?${bad}`);
      expect(refused.status, bad).toBe(400);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
        'ERR_MESSAGE_INVALID',
      );
    }
  });

  it('streams the whole journal as NDJSON, one entry per line, newest first', async () => {
    const { id, ids } = await journalOf(2_500);
    const response = await get(`/supervisors/${id}/journal?format=ndjson`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/x-ndjson');
    const text = await response.text();
    expect(text.endsWith('\n')).toBe(true);
    const entries = text
      .trimEnd()
      .split('\n')
      .map((line) => JournalEntry.parse(JSON.parse(line)));
    expect(entries.map((e) => e.id)).toEqual(ids);
  });

  it('shows a journal only to whom GET /supervisors/:id shows the supervisor', async () => {
    const { id, ids } = await journalOf(3);
    const asBob = await get(`/supervisors/${id}/journal`, TOKENS.bob);
    expect(asBob.status).toBe(404);
    expect(((await asBob.json()) as { error: { code: string } }).error.code).toBe(
      'ERR_SUPERVISOR_NOT_FOUND',
    );
    expect((await get(`/supervisors/${id}/journal?format=ndjson`, TOKENS.bob)).status).toBe(404);
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect((await get(`/supervisors/${unknown}/journal`)).status).toBe(404);
    const asAdmin = JournalPage.parse(
      await (await get(`/supervisors/${id}/journal`, TOKENS.admin)).json(),
    );
    expect(asAdmin.entries.map((e) => e.id)).toEqual(ids);
    expect(asAdmin.nextBefore).toBeNull();
  });
});
