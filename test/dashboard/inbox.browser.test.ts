// The Questions page (the inbox) in a real Chromium, issue 17: cards a person can tell
// apart, most urgent first, that never move under the pointer, so that no click answers a
// question the person did not see; keys, bulk answers, accessibility and a narrow screen.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Locator,
  type Page,
} from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AnswerKind } from '../../src/model/supervisor.ts';
import { engines } from '../helpers/engines.ts';
import { TOKENS, useServer } from '../helpers/server.ts';
import { testRegistry } from '../helpers/testMachines.ts';

const CHROMIUM = '/usr/bin/chromium';
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const FINAL_PROMPT = 'All steps are done. Accept the result?';
const pglite = engines.find((engine) => engine.name === 'pglite');
if (!pglite) throw new Error('the PGlite test engine is missing from test/helpers/engines.ts');

/** Polls until the assertion holds: the page changes when frames arrive, not on our call. */
const eventually = <T>(read: () => Promise<T>) =>
  expect.poll(read, { timeout: 10_000, interval: 50 });

/** What axe-core reports of a rule a page breaks. */
interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** A valid answer of the kind, to clear a question away. */
function anyAnswer(kind: AnswerKind): unknown {
  if (kind.kind === 'confirm') return true;
  if (kind.kind === 'choice') return kind.options[0];
  if (kind.kind === 'number') return kind.min ?? 1;
  return kind.kind === 'text' ? 'done' : {};
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the Questions page in Chromium [pglite]', () => {
  const fixture = useServer(pglite, { registry: testRegistry() });
  let browser: Browser;
  let context: BrowserContext;
  let problems: string[];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`no Chromium at ${CHROMIUM}: the inbox browser test needs it`);
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'],
    });
    await mkdir('test-artifacts', { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    // One server for the file: each test begins with an empty inbox.
    for (const row of await fixture.host.list({ hasPendingQuestions: true })) {
      await fixture.host.cancel(row.id, 'next test').catch(async () => {
        // Not every test machine can be cancelled: its questions are answered instead.
        for (const question of row.pendingQuestions) {
          await fixture.host.answer(row.id, question.id, anyAnswer(question.answer));
        }
      });
    }
    context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    context.setDefaultTimeout(10_000);
    problems = [];
  });
  afterEach(async () => {
    await context.close();
  });

  /** The Questions page, signed in through a `#token=` link, with the pointer off the list. */
  async function openInbox(token: string = TOKENS.alice): Promise<Page> {
    const page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    await page.goto(`${fixture.server.url}/#token=${token}`);
    await page.locator('#connection[data-state="live"]').waitFor();
    await page.locator('[data-nav="questions"]').click();
    await page.mouse.move(5, 5);
    return page;
  }

  /** A reference supervisor waiting for its final approval (`FINAL_PROMPT`), titled `goal`. */
  async function atFinalApproval(goal: string, owner = 'alice'): Promise<string> {
    const { id } = await fixture.host.spawn('reference', { goal, steps: [] }, { owner });
    await fixture.host.answer(id, 'approve-plan', true);
    expect((await fixture.host.get(id)).pendingQuestions.map((q) => q.id)).toEqual([
      'final-approval',
    ]);
    return id;
  }

  /**
   * How many answers each supervisor's journal records from the page: the test's own
   * `host.answer` calls name nobody (`by: null`), the page's name the token's owner.
   */
  async function answersIn(ids: string[]): Promise<number[]> {
    return Promise.all(
      ids.map(async (id) => {
        const entries = await fixture.host.journal(id, { limit: 1000 });
        return entries.filter(
          (entry) =>
            entry.kind === 'question_answered' &&
            (entry.payload as { by?: unknown } | null)?.by != null,
        ).length;
      }),
    );
  }

  const cards = (page: Page) => page.locator('#questions-list .inbox-card');
  const pendingCards = (page: Page) =>
    page.locator('#questions-list .inbox-card[data-status="pending"]');
  const cardOf = (page: Page, supervisorId: string) =>
    page.locator(`#questions-list .inbox-card[data-supervisor-id="${supervisorId}"]`);
  const order = (page: Page) =>
    cards(page).evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-supervisor-id')));
  const box = async (locator: Locator) => {
    const found = await locator.boundingBox();
    if (!found) throw new Error('not on the page');
    return found;
  };

  it('answers only the question that was clicked: a second click at the same spot hits the answered card, which stays until the pointer leaves', async () => {
    const ids: string[] = [];
    for (const goal of ['release 1.4', 'release 1.5', 'release 1.6', 'release 1.7']) {
      ids.push(await atFinalApproval(goal));
    }
    const page = await openInbox();
    await eventually(() => pendingCards(page).count()).toBe(4);
    await eventually(() => cards(page).locator('.title').allTextContents()).toEqual([
      'release 1.4',
      'release 1.5',
      'release 1.6',
      'release 1.7',
    ]);
    await page.screenshot({ path: 'test-artifacts/inbox-1400.png', fullPage: true });

    const first = cardOf(page, ids[0] as string);
    const yes = await box(first.locator('button[data-value="Yes"]'));
    const at = { x: yes.x + yes.width / 2, y: yes.y + yes.height / 2 };
    const before = await box(first);
    await page.mouse.click(at.x, at.y);
    await page.mouse.click(at.x, at.y);
    await eventually(() => first.locator('.outcome').textContent()).toMatch(
      /^Answered by you · v\d+$/,
    );
    // After the ack, when the old page took the card away and the next slid in.
    for (let i = 0; i < 5; i++) {
      await page.mouse.click(at.x, at.y);
      await sleep(100);
    }
    expect(await first.getAttribute('data-status')).toBe('answered');
    expect(await first.locator('button[data-value="Yes"]').isDisabled()).toBe(true);
    expect(await box(first)).toEqual(before);
    expect(await pendingCards(page).count()).toBe(3);
    expect(await answersIn(ids)).toEqual([1, 0, 0, 0]);
    // Not full-page: that resizes the page for a moment, which takes the pointer off it.
    await page.screenshot({ path: 'test-artifacts/inbox-answered-1400.png' });

    // A question arriving while the pointer rests on the list goes below every card; the
    // card under the pointer does not move.
    const second = cardOf(page, ids[1] as string);
    const secondBox = await box(second);
    await page.mouse.move(secondBox.x + 20, secondBox.y + 10);
    const urgent = await fixture.host.spawn(
      'deadline',
      { expiresInMs: 600_000 },
      { owner: 'alice' },
    );
    await eventually(() => order(page)).toEqual([...ids, urgent.id]);
    expect(await box(second)).toEqual(secondBox);
    await eventually(() => page.locator('#questions-held').textContent()).toContain(
      '1 new question was added at the end',
    );

    // The pointer leaves: the answered card goes, the new one takes its place by urgency.
    await page.mouse.move(5, 5);
    await eventually(() => order(page)).toEqual([urgent.id, ...ids.slice(1)]);
    expect(await page.locator('#questions-held').textContent()).toBe('');
    expect(await answersIn(ids)).toEqual([1, 0, 0, 0]);
    expect(problems).toEqual([]);
  });

  it('heads each card with its title, owner, machine and age, and puts the soonest deadline first, then the oldest', async () => {
    const oldest = await atFinalApproval('ship the dashboard');
    await sleep(20);
    const later = await fixture.host.spawn(
      'deadline',
      { expiresInMs: 30 * 60_000 },
      { owner: 'alice' },
    );
    const sooner = await fixture.host.spawn(
      'deadline',
      { expiresInMs: 5 * 60_000 },
      { owner: 'alice' },
    );
    const newest = await atFinalApproval('write the changelog');
    const page = await openInbox();
    await eventually(() => order(page)).toEqual([sooner.id, later.id, oldest, newest]);

    const titled = cardOf(page, oldest);
    await eventually(() => titled.locator('.title').textContent()).toBe('ship the dashboard');
    expect(await titled.locator('.card-owner').textContent()).toBe('owner alice');
    expect(await titled.locator('.card-machine').textContent()).toBe('machine reference');
    expect(await titled.locator('.prompt').textContent()).toBe(FINAL_PROMPT);
    const age = titled.locator('.card-age');
    expect(await age.textContent()).toMatch(/^asked \d+ s ago$/);
    // Ages are relative and keep counting.
    const first = await age.textContent();
    await eventually(() => age.textContent()).not.toBe(first);

    // No title: the machine and the start of the id.
    const untitled = cardOf(page, sooner.id);
    await eventually(() => untitled.locator('.title').textContent()).toBe(
      `deadline ${sooner.id.slice(0, 8)}`,
    );
    expect(await untitled.locator('.follow-up[data-kind="deadline"]').textContent()).toBe(
      'expires in 4 min',
    );
    expect(await cardOf(page, later.id).locator('.follow-up').textContent()).toBe(
      'expires in 29 min',
    );
    expect(problems).toEqual([]);
  });

  it('filters by machine, owner and audience, and shows when a reminder was sent', async () => {
    const alices = await atFinalApproval('ours');
    const bobs = await atFinalApproval('theirs', 'bob');
    const review = await fixture.host.spawn(
      'follow-up',
      { remindAfterMs: 1_000, escalateAfterMs: 3_600_000 },
      { owner: 'bob' },
    );
    const page = await openInbox(TOKENS.admin);
    await eventually(() => pendingCards(page).count()).toBe(3);
    const reviewCard = cardOf(page, review.id);
    await eventually(() => reviewCard.locator('.follow-up').allTextContents()).toEqual([
      'reminder sent',
      'escalates in 59 min',
    ]);
    expect(await reviewCard.locator('.meta').textContent()).toContain('for role ops');

    const filter = (name: string) => page.locator(`#questions-filters select[name="${name}"]`);
    await eventually(() => filter('owner').locator('option').allTextContents()).toEqual([
      'any',
      'alice',
      'bob',
    ]);
    await filter('owner').selectOption('bob');
    await eventually(() => order(page)).toEqual([bobs, review.id]);
    await filter('machine').selectOption('reference');
    await eventually(() => order(page)).toEqual([bobs]);
    await filter('machine').selectOption('');
    await filter('audience').selectOption('role:ops');
    await eventually(() => order(page)).toEqual([review.id]);
    await filter('owner').selectOption('alice');
    await eventually(() => page.locator('#questions-list .none').textContent()).toBe(
      'No question matches these filters.',
    );
    await filter('audience').selectOption('');
    await eventually(() => order(page)).toEqual([alices]);
    expect(problems).toEqual([]);
  });

  it('moves between cards with j and k and answers only the focused card with y; Enter sends a focused form', async () => {
    const ids: string[] = [];
    for (const goal of ['first', 'second', 'third']) ids.push(await atFinalApproval(goal));
    const survey = await fixture.host.spawn('survey', { count: 1 }, { owner: 'alice' });
    const page = await openInbox();
    await eventually(() => order(page)).toEqual([...ids, survey.id]);
    const focused = () =>
      page.evaluate(
        "document.activeElement?.closest('.inbox-card')?.getAttribute('data-supervisor-id')",
      );

    // No card has the focus: y answers nothing.
    await page.keyboard.press('y');
    await sleep(300);
    expect(await answersIn(ids)).toEqual([0, 0, 0]);

    await page.keyboard.press('j');
    expect(await focused()).toBe(ids[0]);
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await page.keyboard.press('k');
    expect(await focused()).toBe(ids[1]);
    await page.keyboard.press('y');
    const answered = cardOf(page, ids[1] as string);
    await eventually(() => answered.locator('.outcome').textContent()).toMatch(
      /^Answered by you · v\d+$/,
    );
    // A second y finds the focused card answered, and does not look for another one.
    await page.keyboard.press('y');
    await sleep(300);
    expect(await answersIn(ids)).toEqual([0, 1, 0]);
    expect((await fixture.host.get(ids[1] as string)).state).toBe('completed');
    // The focus moves on: the answered card leaves and the focused one keeps the focus.
    await page.keyboard.press('j');
    expect(await focused()).toBe(ids[2]);
    await eventually(() => order(page)).toEqual([ids[0], ids[2], survey.id]);
    expect(await focused()).toBe(ids[2]);

    const surveyCard = cardOf(page, survey.id);
    await surveyCard.locator('input[type="number"]').fill('42');
    await page.keyboard.press('Escape');
    await surveyCard.focus();
    await page.keyboard.press('Enter');
    await eventually(() => surveyCard.locator('.outcome').textContent()).toMatch(
      /^Answered by you · v\d+$/,
    );
    expect((await fixture.host.get(survey.id)).pendingQuestions).toEqual([]);
    expect(await answersIn(ids)).toEqual([0, 1, 0]);
    expect(problems).toEqual([]);
  });

  it('answers every identical confirm question at once, after a confirmation that names them, and no other', async () => {
    const same: string[] = [];
    for (const goal of ['batch a', 'batch b', 'batch c']) same.push(await atFinalApproval(goal));
    const other = await fixture.host.spawn(
      'reference',
      { goal: 'plan', steps: ['x'] },
      { owner: 'alice' },
    );
    const deadline = await fixture.host.spawn(
      'deadline',
      { expiresInMs: 3_600_000 },
      { owner: 'alice' },
    );
    const page = await openInbox();
    await eventually(() => pendingCards(page).count()).toBe(5);
    const group = page.locator('#questions-bulk .bulk-group');
    await eventually(() => group.count()).toBe(1);
    expect(await group.getAttribute('data-count')).toBe('3');
    expect(await group.locator('.bulk-what').textContent()).toBe(
      `3 identical questions from machine reference: ${FINAL_PROMPT}`,
    );

    const asked: string[] = [];
    page.once('dialog', (dialog) => {
      asked.push(dialog.message());
      void dialog.dismiss();
    });
    await group.locator('button[data-bulk="Yes"]').click();
    await eventually(async () => asked.length).toBe(1);
    expect(asked[0]).toContain(
      `Answer "Yes" to 3 questions "${FINAL_PROMPT}" from machine reference?`,
    );
    for (const title of ['batch a', 'batch b', 'batch c']) expect(asked[0]).toContain(title);
    await sleep(300);
    expect(await answersIn(same)).toEqual([0, 0, 0]);

    // One of them answered on its own card, the list held under the pointer: the bulk row
    // stays where it is and counts the two left, as its confirmation does.
    const single = page.locator('.inbox-card', { hasText: 'batch a' });
    await single.locator('button[data-value="Yes"]').click();
    await eventually(() => single.locator('.outcome').textContent()).toMatch(/^Answered by you/);
    await eventually(() => group.getAttribute('data-count')).toBe('2');
    expect(await group.locator('.bulk-what').textContent()).toBe(
      `2 identical questions from machine reference: ${FINAL_PROMPT}`,
    );
    expect(await group.locator('button[data-bulk="Yes"]').textContent()).toBe(
      'Answer all 2 with Yes',
    );
    page.once('dialog', (dialog) => {
      asked.push(dialog.message());
      void dialog.accept();
    });
    await group.locator('button[data-bulk="Yes"]').click();
    await eventually(() => answersIn(same)).toEqual([1, 1, 1]);
    expect(asked[1]).toContain(
      `Answer "Yes" to 2 questions "${FINAL_PROMPT}" from machine reference?`,
    );
    for (const id of same) expect((await fixture.host.get(id)).state).toBe('completed');
    expect(await answersIn([other.id, deadline.id])).toEqual([0, 0]);
    expect(await group.locator('button[data-bulk="Yes"]').isDisabled()).toBe(true);
    await page.mouse.move(5, 5);
    await eventually(() => order(page)).toEqual([deadline.id, other.id]);
    await eventually(() => group.count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it('has no serious or critical accessibility violation, and fits a 400 px wide screen', async () => {
    await atFinalApproval('an accessible release with a rather long title that has to wrap');
    await atFinalApproval('another release');
    await fixture.host.spawn('deadline', { expiresInMs: 600_000 }, { owner: 'alice' });
    await fixture.host.spawn('survey', { count: 1 }, { owner: 'alice' });
    // axe comes in as an inline script, which the page's content security policy refuses.
    await context.close();
    context = await browser.newContext({
      viewport: { width: 1400, height: 1000 },
      bypassCSP: true,
    });
    const page = await openInbox();
    await eventually(() => pendingCards(page).count()).toBe(4);
    await eventually(() => page.locator('#questions-bulk .bulk-group').count()).toBe(1);

    const serious = async () => {
      await page.addScriptTag({ path: AXE });
      const { violations } = (await page.evaluate('axe.run()')) as { violations: Violation[] };
      return violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(', ')})`);
    };
    expect(await serious()).toEqual([]);

    await page.setViewportSize({ width: 400, height: 800 });
    await sleep(100);
    await page.screenshot({ path: 'test-artifacts/inbox-400.png', fullPage: true });
    // What sticks out, named, so that a failure says where to look.
    const overflowing = await page.evaluate(`[...document.querySelectorAll('body *')]
      .filter((node) => node.getBoundingClientRect().right > 400)
      .map((node) => node.tagName.toLowerCase() + '.' + node.className)`);
    expect(overflowing).toEqual([]);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(400);
    expect(await serious()).toEqual([]);
    expect(problems).toEqual([]);
  });
});
