// The dashboard in a real Chromium: a person answers a question in the page, and the page
// shows the consequences as they are committed, from WebSocket frames, without a reload.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Locator,
  type Page,
  type WebSocketRoute,
} from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAvailability } from '../../src/server/availability.ts';
import { engines } from '../helpers/engines.ts';
import { TOKENS, useServer } from '../helpers/server.ts';
import { testRegistry } from '../helpers/testMachines.ts';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = 'test-artifacts/dashboard.png';
const pglite = engines.find((engine) => engine.name === 'pglite');
if (!pglite) throw new Error('the PGlite test engine is missing from test/helpers/engines.ts');

/** The text of the first match, or null while nothing matches (does not wait). */
async function textOf(locator: Locator): Promise<string | null> {
  return (await locator.count()) === 0 ? null : locator.first().textContent();
}

/** The classes of the first match; none while nothing matches. */
async function classesOf(locator: Locator): Promise<string[]> {
  if ((await locator.count()) === 0) return [];
  return (await locator.first().getAttribute('class'))?.split(/\s+/) ?? [];
}

/** Polls until the assertion holds: the page changes when frames arrive, not on our call. */
const eventually = <T>(read: () => Promise<T>) =>
  expect.poll(read, { timeout: 10_000, interval: 50 });

/** Collects what would otherwise fail silently inside the page. */
function watchPage(page: Page, problems: string[]): Page {
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${response.status()} ${response.url()}`);
  });
  return page;
}

describe('dashboard in Chromium [pglite]', () => {
  const availability = createAvailability();
  const fixture = useServer(pglite, { registry: testRegistry(), availability });
  let browser: Browser;
  let context: BrowserContext;
  let problems: string[];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `no Chromium at ${CHROMIUM}: the dashboard browser test needs it (Debian: apt-get install chromium)`,
      );
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    context.setDefaultTimeout(10_000);
    problems = [];
  });
  afterEach(async () => {
    await context.close();
  });

  /** A tab signed in as alice through a `#token=` link. */
  async function openAsAlice(): Promise<Page> {
    const page = watchPage(await context.newPage(), problems);
    await page.goto(`${fixture.server.url}/#token=${TOKENS.alice}`);
    await page.locator('#connection[data-state="live"]').waitFor();
    return page;
  }

  it('answers a question in the page; the question, diagram and fleet row change live', async () => {
    const { id } = await fixture.host.spawn(
      'reference',
      { goal: 'ship the dashboard', steps: ['build', 'test'] },
      { owner: 'alice' },
    );

    // Tab 1: the fleet, watched for reloads and for list requests.
    const fleet = await openAsAlice();
    expect(fleet.url()).not.toContain('token');
    expect(await fleet.evaluate("sessionStorage.getItem('steward.token')")).toBe(TOKENS.alice);
    await eventually(() => textOf(fleet.locator('#who'))).toBe('alice');
    const row = fleet.locator(`tr[data-supervisor-id="${id}"]`);
    await eventually(() => textOf(row.locator('.state-badge'))).toBe('waiting_for_user');
    await eventually(() => textOf(row.locator('.pending'))).toBe('1');
    // A reload would lose this mark.
    await fleet.evaluate('window.notReloaded = true');

    // Tab 2: the supervisor page, reached from its row.
    const page = await openAsAlice();
    await page.locator(`tr[data-supervisor-id="${id}"] a`).click();
    expect(page.url()).toContain(`#/supervisors/${id}`);
    const diagram = page.locator('#supervisor-diagram');
    const waiting = diagram.locator('[data-state-id="reference.active.awaitingApproval"]');
    const running = diagram.locator('[data-state-id="reference.active.executing.running"]');
    await eventually(() => classesOf(waiting)).toContain('active');
    await eventually(() =>
      classesOf(diagram.locator('[data-state-id="reference.active"]')),
    ).toContain('active');
    await eventually(() => classesOf(running)).not.toContain('active');
    const question = page.locator('[data-question-id="approve-plan"]');
    await eventually(() => textOf(question.locator('.prompt'))).toContain('Approve the plan');

    // Counted from the answer on: a reload the fleet tab scheduled before it (a frame about
    // a row not loaded yet, debounced 500 ms) has had its time.
    await fleet.waitForTimeout(700);
    const listRequests: string[] = [];
    fleet.on('request', (request) => {
      if (new URL(request.url()).pathname.startsWith('/supervisors')) {
        listRequests.push(request.url());
      }
    });
    await question.locator('button[data-value="Yes"]').click();

    await eventually(() => textOf(page.locator('#answer-status'))).toMatch(
      /^approve-plan: answered \(version \d+\)$/,
    );
    await eventually(() => question.count()).toBe(0);
    await eventually(() => classesOf(waiting)).not.toContain('active');
    await eventually(() => classesOf(running)).toContain('active');
    await eventually(() =>
      classesOf(diagram.locator('[data-state-id="reference.active.executing"]')),
    ).toContain('active');
    await eventually(() => textOf(page.locator('#supervisor-summary .state-badge'))).toBe(
      'waiting_for_tasks',
    );

    // Tab 1 changed from frames alone: same document, no list request since the answer.
    await eventually(() => textOf(row.locator('.state-badge'))).toBe('waiting_for_tasks');
    await eventually(() => textOf(row.locator('.state-value'))).toBe('active.executing.running');
    await eventually(() => textOf(row.locator('.pending'))).toBe('0');
    expect(await fleet.evaluate('window.notReloaded')).toBe(true);
    expect(listRequests).toEqual([]);

    // The journal: step back to the checkpoint taken at spawn; its state shows beside the
    // live one.
    const journal = page.locator('#supervisor-journal');
    await eventually(() => journal.locator('li[data-kind="question_answered"]').count()).toBe(1);
    await journal.locator('li[data-kind="checkpoint"]').first().click();
    await eventually(() => textOf(journal.locator('.entry .kind'))).toBe('checkpoint');
    await eventually(() => classesOf(waiting)).toContain('checkpoint');
    await eventually(() => classesOf(running)).toContain('active');
    const position = await journal.locator('.position').textContent();
    await journal.locator('button.next').click();
    await eventually(() => textOf(journal.locator('.position'))).not.toBe(position ?? '');
    await journal.locator('button.previous').click();
    await eventually(() => textOf(journal.locator('.position'))).toBe(position ?? '');

    await mkdir('test-artifacts', { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(problems).toEqual([]);
  });

  it('shows the newest 50 journal entries and loads older ones on request until none are left', async () => {
    const { id } = await fixture.host.spawn(
      'reference',
      { goal: 'a long journal', steps: [] },
      { owner: 'alice' },
    );
    await fixture.db.query(
      `INSERT INTO supervisor_events (supervisor_id, version, kind, payload)
       SELECT $1, 1, 'command', jsonb_build_object('command', 'event', 'n', n)
       FROM generate_series(1, 120) AS n`,
      [id],
    );
    const page = await openAsAlice();
    await page.goto(`${fixture.server.url}/#/supervisors/${id}`);
    const journal = page.locator('#supervisor-journal');
    const entries = journal.locator('li:not([data-kind="checkpoint"])');
    const more = journal.locator('button.load-more');
    await eventually(() => entries.count()).toBe(50);
    await more.click();
    await eventually(() => entries.count()).toBe(100);
    await more.click();
    // 120 written by hand and the spawn's own: every one once, and nothing more to load.
    const total = (await fixture.host.journal(id, { limit: 1000 })).length;
    await eventually(() => entries.count()).toBe(total);
    await eventually(() => more.isHidden()).toBe(true);
    expect(problems).toEqual([]);
  });

  it("shows a refused answer's error code, filters the fleet, and badges counts on the machines", async () => {
    const { id } = await fixture.host.spawn(
      'survey',
      { count: 1, role: 'ops' },
      { owner: 'alice' },
    );
    const page = await openAsAlice();
    await page.goto(`${fixture.server.url}/#/supervisors/${id}`);
    const question = page.locator('[data-question-id="q0"]');
    await question.locator('input[type="number"]').fill('7');
    await question.locator('button[type="submit"]').click();
    await eventually(() => textOf(question.locator('.outcome'))).toContain('ERR_FORBIDDEN');
    await eventually(() => textOf(page.locator('#answer-status'))).toContain('q0: ERR_FORBIDDEN');

    // The fleet filters go to the server as query parameters.
    await page.locator('[data-nav="fleet"]').click();
    const row = page.locator(`tr[data-supervisor-id="${id}"]`);
    await eventually(() => row.count()).toBe(1);
    await page.locator('#fleet-filters select[name="machineId"]').selectOption('survey');
    await page.locator('#fleet-filters select[name="state"]').selectOption('completed');
    await eventually(() => textOf(page.locator('#fleet-message'))).toBe(
      'No supervisor matches these filters.',
    );
    await page.locator('#fleet-filters select[name="state"]').selectOption('waiting_for_user');
    await page.locator('#fleet-filters select[name="hasPendingQuestions"]').selectOption('true');
    await eventually(() => row.count()).toBe(1);
    await eventually(() => textOf(row.locator('.pending'))).toBe('1');

    await page.locator('[data-nav="machines"]').click();
    const survey = page.locator('section.machine[data-machine-id="survey"]');
    await eventually(() =>
      textOf(survey.locator('[data-state-id="survey.asking"] .count-badge text')),
    ).toBe('1');
    await eventually(() => textOf(survey.locator('.machine-total'))).toBe('1 supervisor');
    expect(problems).toEqual([]);
  });
  it("lists every question waiting for the token's owner, across supervisors, and answers them there", async () => {
    const first = await fixture.host.spawn('survey', { count: 2 }, { owner: 'alice' });
    const page = await openAsAlice();
    await page.locator('[data-nav="questions"]').click();
    expect(page.url()).toContain('#/questions');
    await page.evaluate('window.notReloaded = true');
    const mine = page.locator(`#questions-list [data-supervisor-id="${first.id}"]`);
    await eventually(() => mine.count()).toBe(2);
    const badge = page.locator('#questions-count');
    const waiting = Number(await badge.textContent());
    expect(waiting).toBeGreaterThanOrEqual(2);

    const q0 = mine.and(page.locator('[data-question-id="q0"]'));
    await q0.locator('input[type="number"]').fill('42');
    await q0.locator('button[type="submit"]').click();
    // The answered card stays in place, confirmed, until the pointer leaves the list.
    await eventually(() => textOf(q0.locator('.outcome'))).toMatch(/^Answered by you · v\d+$/);
    await page.mouse.move(5, 5);
    await eventually(() => mine.count()).toBe(1);
    await eventually(() => textOf(badge)).toBe(String(waiting - 1));
    expect((await fixture.host.get(first.id)).pendingQuestions.map((q) => q.id)).toEqual(['q1']);

    // New questions arrive live, without disturbing an answer being typed; another owner's
    // never arrive.
    const typing = mine.locator('input[type="number"]');
    await typing.fill('7');
    await typing.focus();
    const second = await fixture.host.spawn('survey', { count: 1 }, { owner: 'alice' });
    const theirs = await fixture.host.spawn('survey', { count: 1 }, { owner: 'bob' });
    await eventually(() =>
      page.locator(`#questions-list [data-supervisor-id="${second.id}"]`).count(),
    ).toBe(1);
    expect(await typing.inputValue()).toBe('7');
    const focused = `[document.activeElement?.tagName,
      document.activeElement?.closest('[data-supervisor-id]')?.getAttribute('data-supervisor-id')]`;
    expect(await page.evaluate(focused)).toEqual(['INPUT', first.id]);
    await eventually(() => textOf(badge)).toBe(String(waiting));
    // Its card names the machine once the page has read the supervisor's row.
    await eventually(() =>
      textOf(page.locator(`#questions-list [data-supervisor-id="${second.id}"] .card-machine`)),
    ).toBe('machine survey');
    expect(await page.locator(`[data-supervisor-id="${theirs.id}"]`).count()).toBe(0);
    await mkdir('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/questions.png', fullPage: true });
    await page.locator(`#questions-list [data-supervisor-id="${second.id}"] .from a`).click();
    expect(page.url()).toContain(`#/supervisors/${second.id}`);
    expect(await page.evaluate('window.notReloaded')).toBe(true);
    expect(problems).toEqual([]);
  });

  it('pauses, resumes and cancels a supervisor from its page, and shows each change live', async () => {
    const { id } = await fixture.host.spawn(
      'reference',
      { goal: 'be paused and cancelled', steps: ['a'] },
      { owner: 'alice' },
    );
    const page = await openAsAlice();
    await page.goto(`${fixture.server.url}/#/supervisors/${id}`);
    const badge = page.locator('#supervisor-summary .state-badge');
    const controls = page.locator('#supervisor-controls');
    const paused = page.locator('#supervisor-diagram [data-state-id="reference.paused"]');
    await eventually(() => textOf(badge)).toBe('waiting_for_user');

    // Each control asks first: nothing changes until it is confirmed.
    await controls.locator('button[data-action="pause"]').click();
    await controls.locator('button[data-action="keep"]').click();
    expect((await fixture.host.get(id)).state).toBe('waiting_for_user');
    await controls.locator('button[data-action="pause"]').click();
    expect(await textOf(controls.locator('.confirm-explain'))).toContain('until resumed');
    await page.screenshot({ path: 'test-artifacts/supervisor-pause-confirm.png' });
    await controls.locator('button[type="submit"]').click();
    await eventually(() => textOf(badge)).toBe('paused');
    await eventually(() => classesOf(paused)).toContain('active');
    await eventually(() => textOf(page.locator('#control-status'))).toMatch(
      /^Pause: done \(version \d+\)$/,
    );
    expect((await fixture.host.get(id)).state).toBe('paused');

    await controls.locator('button[data-action="resume"]').click();
    await controls.locator('button[type="submit"]').click();
    await eventually(() => textOf(badge)).toBe('waiting_for_user');
    await eventually(() => classesOf(paused)).not.toContain('active');
    // History brings it back where it was: the question is still there.
    await eventually(() => page.locator('[data-question-id="approve-plan"]').count()).toBe(1);

    await controls.locator('button[data-action="cancel"]').click();
    await controls.locator('button[data-action="keep"]').click();
    expect(await controls.locator('button[data-action="pause"]').count()).toBe(1);
    await controls.locator('button[data-action="cancel"]').click();
    await controls.locator('input').fill('no longer needed');
    await controls.locator('button[type="submit"]').click();
    await eventually(() => textOf(badge)).toBe('cancelled');
    // Cancelled, it can only be retried (behind a confirmation).
    await eventually(() => controls.locator('button').count()).toBe(1);
    expect(await controls.locator('button').getAttribute('data-action')).toBe('retry');
    await eventually(() => page.locator('[data-question-id="approve-plan"]').count()).toBe(0);
    const stored = await fixture.host.get(id);
    expect(stored.state).toBe('cancelled');
    expect(JSON.stringify(stored.snapshot)).toContain('no longer needed');
    expect(problems).toEqual([]);
  });

  it('reconnects after the socket drops and catches up on what happened meanwhile', async () => {
    const { id } = await fixture.host.spawn(
      'reference',
      { goal: 'survive a dropped socket', steps: ['a'] },
      { owner: 'alice' },
    );
    const page = watchPage(await context.newPage(), problems);
    // The page's socket runs through Playwright, which can cut it and refuse new ones.
    let cut = false;
    const open: WebSocketRoute[] = [];
    await page.routeWebSocket(/\/ws$/, (ws) => {
      if (cut) {
        void ws.close({ code: 4000, reason: 'network down' });
        return;
      }
      open.push(ws, ws.connectToServer());
    });
    await page.goto(`${fixture.server.url}/#token=${TOKENS.alice}`);
    await page.locator('#connection[data-state="live"]').waitFor();
    await page.goto(`${fixture.server.url}/#/supervisors/${id}`);
    const question = page.locator('[data-question-id="approve-plan"]');
    await eventually(() => question.count()).toBe(1);
    await page.evaluate('window.notReloaded = true');

    cut = true;
    for (const ws of open.splice(0)) await ws.close({ code: 4000, reason: 'network down' });
    await eventually(() => textOf(page.locator('#connection'))).toMatch(/^reconnecting in \d+ s$/);
    // Answered elsewhere while the page cannot hear about it.
    await fixture.host.answer(id, 'approve-plan', true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await question.count()).toBe(1);

    cut = false;
    await eventually(() => textOf(page.locator('#connection'))).toBe('live');
    await eventually(() => question.count()).toBe(0);
    await eventually(() => textOf(page.locator('#supervisor-summary .state-badge'))).toBe(
      'waiting_for_tasks',
    );
    const running = page.locator(
      '#supervisor-diagram [data-state-id="reference.active.executing.running"]',
    );
    await eventually(() => classesOf(running)).toContain('active');
    expect(await page.evaluate('window.notReloaded')).toBe(true);
    expect(problems).toEqual([]);
  });

  // Issue 12: what the runtime does when it loses its database, as the page shows it.
  it('says in its header when the runtime has lost its database, and subscribes again once it is back', async () => {
    const { id } = await fixture.host.spawn(
      'reference',
      { goal: 'wait out the database', steps: ['a'] },
      { owner: 'alice' },
    );
    const page = await openAsAlice();
    const badge = page.locator('#database');
    expect(await badge.isHidden()).toBe(true);

    fixture.host.databaseLost();
    availability.set('unavailable', 'the connection holding the claim failed');
    await eventually(() => textOf(badge)).toMatch(
      /^Database unavailable since .+: nothing can be answered until the runtime reconnects \(it retries by itself\)$/,
    );
    expect(await badge.isVisible()).toBe(true);
    // A page opened now is refused its subscription, and keeps asking.
    const late = watchPage(await context.newPage(), problems);
    await late.goto(`${fixture.server.url}/#token=${TOKENS.alice}`);
    await late.goto(`${fixture.server.url}/#/supervisors/${id}`);
    await eventually(() => textOf(late.locator('#database'))).toMatch(/^Database unavailable/);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await textOf(late.locator('#connection'))).toBe('subscribing');
    await late.screenshot({ path: 'test-artifacts/database-unavailable.png' });

    await fixture.host.restoreAll('restart');
    fixture.host.databaseBack();
    availability.set('available');
    await eventually(() => badge.isHidden()).toBe(true);
    await eventually(() => textOf(late.locator('#connection'))).toBe('live');
    await eventually(() => late.locator('[data-question-id="approve-plan"]').count()).toBe(1);
    await eventually(() => textOf(late.locator('#supervisor-summary .state-badge'))).toBe(
      'waiting_for_user',
    );
    // Reads were refused with 503 meanwhile, as they should be; nothing else went wrong.
    const refusedWhileAway = (p: string) => p.startsWith('503 ') || p.includes('status of 503');
    expect(problems.filter((p) => !refusedWhileAway(p))).toEqual([]);
  });
});
