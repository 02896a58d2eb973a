// Issue 17: the fleet page in a real Chromium, as a person uses it — what needs them first,
// a search that narrows as they type, a heartbeat that speaks only when it matters, and a
// page that fits a phone. The screenshots are part of the test: look at them.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  onTestFinished,
} from 'vitest';
import { setup } from 'xstate';
import { initialSupervisorContext, type SupervisorContext } from '../../src/machines/context.ts';
import { engines } from '../helpers/engines.ts';
import { TOKENS, useServer } from '../helpers/server.ts';
import { testRegistry } from '../helpers/testMachines.ts';
import { waitFor } from '../helpers/waitFor.ts';

const CHROMIUM = '/usr/bin/chromium';
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const pglite = engines.find((engine) => engine.name === 'pglite');
if (!pglite) throw new Error('the PGlite test engine is missing from test/helpers/engines.ts');

const eventually = <T>(read: () => Promise<T>) =>
  expect.poll(read, { timeout: 10_000, interval: 50 });

/** The supervisors of the fleet, by the part each plays: every lifecycle state is here. */
interface Fleet {
  waitingOld: string;
  waitingNew: string;
  failed: string;
  working: string;
  stalled: string;
  paused: string;
  initializing: string;
  waitingForTasks: string;
  completed: string;
  cancelled: string;
}

/** Stays in `initializing`: the one lifecycle state no other test machine keeps. */
const bootingMachine = setup({ types: { context: {} as SupervisorContext } }).createMachine({
  id: 'booting',
  context: () => initialSupervisorContext(),
  initial: 'booting',
  states: { booting: { tags: ['initializing'] } },
});

const registry = testRegistry();
registry.register({ id: 'booting', version: 1, machine: bootingMachine });

/** Distinct timestamps for the ones whose order depends on when they entered their state. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('the fleet page in Chromium [pglite]', () => {
  const fixture = useServer(pglite, { registry });
  let browser: Browser;
  let context: BrowserContext;
  let problems: string[];
  const fleet = {} as Fleet;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`no Chromium at ${CHROMIUM}: the fleet browser test needs it`);
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'],
    });

    const { host, db } = fixture;
    const state = (id: string, expected: string) =>
      waitFor(`${id} to be ${expected}`, async () => (await host.get(id)).state === expected);
    fleet.waitingOld = (
      await host.spawn(
        'reference',
        { goal: 'ship the fleet page', steps: ['build'] },
        {
          owner: 'alice',
        },
      )
    ).id;
    await tick();
    fleet.waitingNew = (await host.spawn('survey', { count: 1 }, { owner: 'bob' })).id;
    fleet.failed = (await host.spawn('fragile', {}, { owner: 'alice' })).id;
    await host.send(fleet.failed, { type: 'boom' }).catch(() => {});
    await state(fleet.failed, 'failed');
    fleet.working = (await host.spawn('tally', {}, { owner: 'bob' })).id;
    await tick();
    fleet.stalled = (await host.spawn('tally', {}, { owner: 'alice' })).id;
    await tick();
    fleet.paused = (await host.spawn('tally', {}, { owner: 'alice' })).id;
    await host.pause(fleet.paused);
    await state(fleet.paused, 'paused');
    await tick();
    fleet.initializing = (await host.spawn('booting', {}, { owner: 'alice' })).id;
    await tick();
    fleet.waitingForTasks = (
      await host.spawn('worker', { tasks: [{ name: 'step' }] }, { owner: 'alice' })
    ).id;
    await state(fleet.waitingForTasks, 'waiting_for_tasks');
    fleet.cancelled = (
      await host.spawn('reference', { goal: 'retire the old page', steps: [] }, { owner: 'alice' })
    ).id;
    await host.cancel(fleet.cancelled, 'superseded');
    await state(fleet.cancelled, 'cancelled');
    await tick();
    fleet.completed = (
      await host.spawn('quiz', { count: 1 }, { owner: 'release-engineering@example.com' })
    ).id;
    await host.answer(fleet.completed, 'q0', 1);
    await state(fleet.completed, 'completed');
    await host.heartbeat();
    // Its runtime went quiet ten minutes ago: no heartbeat, no write since.
    await db.query(
      `UPDATE supervisor_states SET last_heartbeat = now() - interval '10 minutes',
         updated_at = now() - interval '10 minutes' WHERE id = $1`,
      [fleet.stalled],
    );
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    context.setDefaultTimeout(10_000);
    problems = [];
  });
  afterEach(async () => {
    await context.close();
  });

  /** The fleet, signed in with the admin token: every owner's supervisors. */
  async function openFleet(): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    await page.goto(`${fixture.server.url}/#token=${TOKENS.admin}`);
    await page.locator('#connection[data-state="live"]').waitFor();
    await eventually(() => rowIds(page).then((ids) => ids.length)).toBe(10);
    return page;
  }

  const rowIds = (page: Page) =>
    page
      .locator('#fleet-table tbody tr')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-supervisor-id')));

  const heartbeatOf = (page: Page, id: string) =>
    page.locator(`tr[data-supervisor-id="${id}"] td.heartbeat`);

  /** The serious and critical violations axe-core finds in the page as it is now. */
  async function accessibilityViolations(page: Page) {
    await page.addScriptTag({ path: AXE });
    // Page code as text: this project's compiler knows no DOM.
    const { violations } = (await page.evaluate('axe.run()')) as { violations: AxeViolation[] };
    return violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  }

  it('orders the rows by attention: waiting for a person (oldest first), failed, running, finished', async () => {
    const page = await openFleet();
    const states = await page
      .locator('#fleet-table tbody tr')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-state')));
    expect(new Set(states)).toEqual(
      new Set([
        'waiting_for_user',
        'failed',
        'working',
        'paused',
        'initializing',
        'waiting_for_tasks',
        'completed',
        'cancelled',
      ]),
    );
    await eventually(() => rowIds(page)).toEqual([
      fleet.waitingOld,
      fleet.waitingNew,
      fleet.failed,
      // Running, in the order they entered their states: the oldest first.
      fleet.working,
      fleet.stalled,
      fleet.paused,
      fleet.initializing,
      fleet.waitingForTasks,
      // The newest finished first: it finished after the cancelled one.
      fleet.completed,
      fleet.cancelled,
    ]);
    // The title comes from the context's goal; a supervisor without one shows its id.
    const first = page.locator(`tr[data-supervisor-id="${fleet.waitingOld}"] td.supervisor`);
    expect(await first.locator('a').textContent()).toBe('ship the fleet page');
    expect(
      await page.locator(`tr[data-supervisor-id="${fleet.working}"] td.supervisor a`).textContent(),
    ).toBe(fleet.working.slice(0, 8));
    expect(problems).toEqual([]);
  });

  it('narrows the rows as a person types in the search box, and clearing restores them', async () => {
    const page = await openFleet();
    const search = page.getByRole('searchbox', { name: 'Search' });
    const all = await rowIds(page);

    // The server searches the whole fleet, not only the rows loaded, once typing pauses.
    const searched: string[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname === '/supervisors' && url.searchParams.has('search')) {
        expect(url.searchParams.get('order')).toBe('attention');
        searched.push(url.searchParams.get('search') ?? '');
      }
    });
    await search.pressSequentially('bob');
    await eventually(() => rowIds(page)).toEqual([fleet.waitingNew, fleet.working]);
    await eventually(() => page.locator('#fleet-message').textContent()).toBe(
      '2 supervisors match “bob”.',
    );
    await eventually(async () => searched.at(-1)).toBe('bob');
    // Every word must match: an owner and a state together.
    await search.pressSequentially(' waiting');
    await eventually(() => rowIds(page)).toEqual([fleet.waitingNew]);

    await search.fill('ship');
    await eventually(() => rowIds(page)).toEqual([fleet.waitingOld]);
    await search.fill('FRAGILE');
    await eventually(() => rowIds(page)).toEqual([fleet.failed]);
    await search.fill('cancel');
    await eventually(() => rowIds(page)).toEqual([fleet.cancelled]);
    await search.fill(fleet.stalled.slice(0, 13));
    await eventually(() => rowIds(page)).toEqual([fleet.stalled]);
    await search.fill('no such thing');
    await eventually(() => rowIds(page)).toEqual([]);
    await eventually(() => page.locator('#fleet-message').textContent()).toBe(
      'No supervisor matches “no such thing”.',
    );

    await search.fill('');
    await eventually(() => rowIds(page)).toEqual(all);
    await eventually(() => page.locator('#fleet-message').textContent()).toBe('');
    expect(problems).toEqual([]);
  });

  it('shows a heartbeat only for work in flight: relative, "stalled" past 5 min, never "never"', async () => {
    const page = await openFleet();
    const text = (id: string) => heartbeatOf(page, id).textContent();
    for (const id of [fleet.waitingOld, fleet.waitingNew, fleet.failed]) {
      expect(await text(id)).toBe('–');
    }
    for (const id of [fleet.completed, fleet.cancelled]) expect(await text(id)).toBe('');
    await eventually(() => text(fleet.working)).toMatch(/^\d+ s ago$/);
    expect(await heartbeatOf(page, fleet.working).getAttribute('class')).not.toContain('stalled');
    expect(await text(fleet.stalled)).toBe('stalled 10 min');
    expect(await heartbeatOf(page, fleet.stalled).getAttribute('class')).toContain('stalled');
    const stalledColour = await page.evaluate(
      `getComputedStyle(document.querySelector('tr[data-supervisor-id="${fleet.stalled}"] td.heartbeat')).color`,
    );
    expect(stalledColour).toBe('rgb(146, 64, 14)');
    expect(await page.locator('#fleet-table').textContent()).not.toContain('never');

    // The relative time moves on by itself.
    const seconds = async () => Number((await text(fleet.working))?.split(' ')[0]);
    const before = await seconds();
    await eventually(seconds).toBeGreaterThan(before);
    expect(problems).toEqual([]);
  });

  it('fits 1400 px without wrapping owner or machine, and a 400 px screen without widening the page', async () => {
    const page = await openFleet();
    // One line box per line of text: a wrapped cell's range has several.
    const lines = (await page.evaluate(`[...document.querySelectorAll(
      '#fleet-table tbody td:is(.owner, .machine-id)')].map((cell) => {
        const range = document.createRange();
        range.selectNodeContents(cell);
        return { text: cell.textContent, lines: range.getClientRects().length };
      })`)) as { text: string; lines: number }[];
    expect(lines.length).toBe(20);
    for (const cell of lines) expect(cell, String(cell.text)).toMatchObject({ lines: 1 });
    const widths = async () =>
      (await page.evaluate(`({
        page: document.documentElement.scrollWidth,
        table: document.querySelector('.fleet-scroll').scrollWidth,
        box: document.querySelector('.fleet-scroll').clientWidth,
      })`)) as { page: number; table: number; box: number };
    // Taken before the checks: when one fails, the picture shows why.
    await mkdir('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/fleet-1400.png', fullPage: true });
    const wide = await widths();
    expect(wide.page).toBeLessThanOrEqual(1400);
    expect(wide.table).toBeLessThanOrEqual(wide.box);

    await page.setViewportSize({ width: 400, height: 800 });
    await page.screenshot({ path: 'test-artifacts/fleet-400.png', fullPage: true });
    await eventually(() => widths().then((w) => w.page)).toBeLessThanOrEqual(400);
    // Rows are cards now: each whole, its state in sight without scrolling sideways.
    const cards = await page.locator('#fleet-table tbody tr').evaluateAll((rows) =>
      rows.map((row) => ({
        row: row.getBoundingClientRect().right,
        state: row.querySelector('.state-badge')?.getBoundingClientRect().right ?? Infinity,
      })),
    );
    expect(cards.length).toBe(10);
    for (const card of cards) {
      expect(card.row).toBeLessThanOrEqual(400);
      expect(card.state).toBeLessThanOrEqual(400);
    }
    const header = await page
      .locator('header.top > *:not([hidden])')
      .evaluateAll((items) => items.map((item) => item.getBoundingClientRect().right));
    for (const right of header) expect(right).toBeLessThanOrEqual(400);
    // Nor is a link of the nav broken over two lines.
    const navLines = (await page.evaluate(
      `[...document.querySelectorAll('header.top nav a')].map((a) => a.getClientRects().length)`,
    )) as number[];
    expect(navLines).toEqual([1, 1, 1]);
    expect(problems).toEqual([]);
  });

  it('has no serious or critical accessibility violations, wide or narrow', async () => {
    // axe-core goes in as a script of its own, which the page's CSP rightly refuses.
    await context.close();
    context = await browser.newContext({ viewport: { width: 1400, height: 900 }, bypassCSP: true });
    const page = await openFleet();
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.getByRole('searchbox', { name: 'Search' }).fill('alice');
    await page.setViewportSize({ width: 400, height: 800 });
    expect(await accessibilityViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('moves a row live when its supervisor changes state, without a reload', async () => {
    const page = await openFleet();
    await page.evaluate('window.notReloaded = true');
    const { id } = await fixture.host.spawn('tally', {}, { owner: 'alice' });
    // Put the fleet back as the other tests know it, whatever happens here.
    onTestFinished(async () => {
      await fixture.db.query('DELETE FROM supervisor_states WHERE id = $1', [id]);
    });
    // The newest of the five running, last of them: after 3 ahead and the other 5.
    await eventually(() => rowIds(page).then((ids) => ids.indexOf(id))).toBe(8);
    await fixture.host.send(id, { type: 'boom' }).catch(() => {});
    // Failed after the other one: among failures, the oldest comes first.
    await eventually(() => rowIds(page).then((ids) => ids.indexOf(id))).toBe(3);
    expect(await page.evaluate('window.notReloaded')).toBe(true);
    expect(problems).toEqual([]);
  });
});

interface AxeViolation {
  id: string;
  impact: string | null;
  nodes: { target: string[] }[];
}
