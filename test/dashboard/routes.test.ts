import { request } from 'node:http';
import { XMLValidator } from 'fast-xml-parser';
import { expect, it } from 'vitest';
import { DASHBOARD_FILES } from '../../src/server/dashboard/dashboardFiles.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { TOKENS, useServer } from '../helpers/server.ts';
import { testRegistry } from '../helpers/testMachines.ts';

/** A GET with the path sent exactly as written: fetch would resolve `..` before sending. */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describeEachEngine('dashboard routes', (engine) => {
  const fixture = useServer(engine, { registry: testRegistry() });
  const get = (path: string, token?: string) =>
    fetch(`${fixture.server.url}${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });

  it('serves the page at / without a token, with a content security policy', async () => {
    const response = await get('/');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await response.text();
    expect(html).toContain('<script type="module" src="/dashboard/app.js"></script>');
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('serves every script and the stylesheet with their content types and no-cache', async () => {
    const paths = Object.keys(DASHBOARD_FILES).filter((p) => p !== '/');
    expect(paths.filter((p) => p.endsWith('.js')).length).toBeGreaterThanOrEqual(6);
    for (const path of paths) {
      const response = await get(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toBe(
        path.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8',
      );
      expect(response.headers.get('cache-control'), path).toBe('no-cache');
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
      const text = await response.text();
      expect(text.length, path).toBeGreaterThan(100);
      // No file loads anything from another origin.
      expect(text, path).not.toMatch(/(?:from|import\(|url\()\s*['"]?(?:https?:)?\/\//);
    }
  });

  it('serves every module the page imports, and nothing it does not list', async () => {
    const imported = new Set<string>(['app.js']);
    for (const path of Object.keys(DASHBOARD_FILES).filter((p) => p.endsWith('.js'))) {
      const text = await (await get(path)).text();
      for (const match of text.matchAll(/from '\.\/([\w.]+\.js)'/g)) imported.add(match[1] ?? '');
    }
    const listed = Object.keys(DASHBOARD_FILES)
      .filter((p) => p.endsWith('.js'))
      .map((p) => p.slice('/dashboard/'.length));
    expect([...imported].sort()).toEqual(listed.sort());
  });

  it('answers 404 to paths outside the allow-list, traversal attempts included', async () => {
    for (const path of [
      '/dashboard/../../../package.json',
      '/dashboard/%2e%2e/%2e%2e/%2e%2e/package.json',
      '/dashboard/..%2f..%2f..%2fpackage.json',
      '/dashboard/dashboardFiles.ts',
      '/dashboard/public/app.js',
      '/dashboard/',
      '/dashboard/app.js/..',
      '/index.html',
      '//etc/passwd',
      '/dashboard/%00app.js',
    ]) {
      const response = await rawGet(fixture.server.url, path);
      // Unauthenticated, so anything not on the list is refused before routing (401) or
      // not found (404): never a file.
      expect([401, 404], path).toContain(response.status);
      expect(response.body, path).not.toContain('"name": "steward"');
    }
    for (const path of ['/dashboard/../../package.json', '/dashboard/%2e%2e/server.ts']) {
      const withToken = await fetch(`${fixture.server.url}${path}`, {
        headers: { authorization: `Bearer ${TOKENS.alice}` },
      });
      expect(withToken.status, path).toBe(404);
    }
  });

  it('needs a token for the machine routes', async () => {
    for (const path of [
      '/machines',
      '/machines/reference/diagram.svg',
      '/machines/reference/graph.json',
      '/machines/reference/counts',
    ]) {
      const response = await get(path);
      expect(response.status, path).toBe(401);
      expect(await response.json()).toMatchObject({ error: { code: 'ERR_UNAUTHENTICATED' } });
    }
  });

  it('lists the registered machines with their versions', async () => {
    const response = await get('/machines', TOKENS.bob);
    expect(response.status).toBe(200);
    const { machines } = (await response.json()) as {
      machines: { id: string; version: number; versions: number[] }[];
    };
    expect(machines.map((m) => m.id)).toEqual(
      testRegistry()
        .list()
        .map((m) => m.id)
        .sort(),
    );
    expect(machines.find((m) => m.id === 'reference')).toEqual({
      id: 'reference',
      version: 1,
      versions: [1],
      description: null,
    });
  });

  it('draws a machine as a well-formed SVG with a data-state-id per state, cached', async () => {
    const first = await get('/machines/reference/diagram.svg', TOKENS.alice);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('image/svg+xml; charset=utf-8');
    const svg = await first.text();
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).toContain('data-state-id="reference.active.awaitingApproval"');
    const started = performance.now();
    const again = await (await get('/machines/reference/diagram.svg', TOKENS.alice)).text();
    expect(again).toBe(svg);
    expect(performance.now() - started).toBeLessThan(200);

    const graph = (await (await get('/machines/reference/graph.json', TOKENS.alice)).json()) as {
      nodes: { id: string }[];
    };
    for (const node of graph.nodes) expect(svg).toContain(`data-state-id="${node.id}"`);

    expect((await get('/machines/reference/diagram.svg?version=1', TOKENS.alice)).status).toBe(200);
    expect(
      await (await get('/machines/reference/diagram.svg?version=7', TOKENS.alice)).json(),
    ).toMatchObject({ error: { code: 'ERR_MACHINE_NOT_REGISTERED' } });
    expect(await (await get('/machines/nope/diagram.svg', TOKENS.alice)).json()).toMatchObject({
      error: { code: 'ERR_MACHINE_NOT_REGISTERED' },
    });
    expect(
      await (await get('/machines/reference/diagram.svg?version=x', TOKENS.alice)).json(),
    ).toMatchObject({ error: { code: 'ERR_MESSAGE_INVALID' } });
  });

  it("counts the caller's supervisors of a machine by state value", async () => {
    const spawn = (owner: string) =>
      fixture.host.spawn('reference', { goal: 'count me', steps: ['a'] }, { owner });
    await spawn('alice');
    await spawn('alice');
    await spawn('bob');
    const counts = async (token: string) =>
      (await (await get('/machines/reference/counts', token)).json()) as {
        total: number;
        stateValues: Record<string, number>;
      };
    const alice = await counts(TOKENS.alice);
    expect(alice.stateValues['active.awaitingApproval']).toBe(alice.total);
    expect(alice.total).toBeGreaterThanOrEqual(2);
    const bob = await counts(TOKENS.bob);
    const admin = await counts(TOKENS.admin);
    expect(admin.total).toBe(alice.total + bob.total);
  });

  it('tells how long supervisors of a machine stayed in each state, from the journal', async () => {
    const ids = await Promise.all(
      [1, 2].map(async () => {
        const { id } = await fixture.host.spawn(
          'reference',
          { goal: 'time me', steps: ['a'] },
          { owner: 'bob' },
        );
        return id;
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const id of ids) await fixture.host.answer(id, 'approve-plan', true);
    const { timeInState } = (await (
      await get('/machines/reference/counts', TOKENS.bob)
    ).json()) as {
      timeInState: Record<string, { medianMs: number; stays: number }>;
    };
    // Both left the approval after about 300 ms; where they are now is still going, uncounted.
    expect(timeInState['active.awaitingApproval']?.stays).toBe(2);
    expect(timeInState['active.awaitingApproval']?.medianMs).toBeGreaterThanOrEqual(250);
    expect(timeInState['active.awaitingApproval']?.medianMs).toBeLessThan(10_000);
    expect(Object.keys(timeInState)).toEqual(['active.awaitingApproval']);
  });
});
