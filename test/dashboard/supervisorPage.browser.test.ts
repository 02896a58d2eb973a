// A supervisor that failed outside the state its machine keeps for failing (an action threw
// in `planning`): its page highlights `failed`, where it really is, not `planning`; the
// Machines page counts it under `failed`; the error reads as a message with its stack
// folded away; and a retry, confirmed first, puts it back to work.
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { initialSupervisorContext, type SupervisorContext } from '../../src/machines/context.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { engines } from '../helpers/engines.ts';
import { TOKENS, useServer } from '../helpers/server.ts';
import { testRegistry } from '../helpers/testMachines.ts';

const AXE = new URL('../../node_modules/axe-core/axe.min.js', import.meta.url).pathname;
const pglite = engines.find((engine) => engine.name === 'pglite');
if (!pglite) throw new Error('the PGlite test engine is missing from test/helpers/engines.ts');

/** Plans, then breaks on `boom` with a stack, never entering its own `failed` state. */
const brittleMachine = setup({
  types: { context: {} as SupervisorContext, events: {} as { type: 'boom' } },
  actions: {
    explode: () => {
      throw new TypeError('the plan has no steps');
    },
  },
}).createMachine({
  id: 'brittle',
  context: () => initialSupervisorContext(),
  initial: 'planning',
  states: {
    planning: { tags: ['working'], on: { boom: { actions: 'explode' } } },
    failed: { tags: ['failed'], type: 'final' },
  },
});

/** Red, green, yellow, red… on each `next`: a history with a different state at every step. */
const trafficMachine = setup({
  types: { context: {} as SupervisorContext, events: {} as { type: 'next' } },
}).createMachine({
  id: 'traffic',
  context: () => initialSupervisorContext(),
  initial: 'red',
  states: {
    red: { tags: ['working'], on: { next: 'green' } },
    green: { tags: ['working'], on: { next: 'yellow' } },
    yellow: { tags: ['working'], on: { next: 'red' } },
  },
});
const CYCLE = ['red', 'green', 'yellow'];
/** How long the replayed supervisor stays green each time; its other stays are quick. */
const LINGER_MS = 600;

const registry = testRegistry();
registry.register({ id: 'brittle', version: 1, machine: brittleMachine });
registry.register({ id: 'traffic', version: 1, machine: trafficMachine });

/** Serious and critical violations axe-core finds in the page as it is now. */
async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated rather than added as a script tag: the dashboard's CSP refuses inline scripts.
  await page.evaluate(readFileSync(AXE, 'utf8'));
  const results = (await page.evaluate('axe.run()')) as {
    violations: Array<{ id: string; impact: string | null; nodes: Array<{ target: string[] }> }>;
  };
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

describe('a failed supervisor in Chromium [pglite]', () => {
  const fixture = useServer(pglite, { registry });
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(() => browser?.close());

  it('is highlighted and counted in failed, says what broke, and can be retried after a confirmation', async () => {
    const { id } = await fixture.host.spawn('brittle', {}, { owner: 'alice' });
    await fixture.host.send(id, { type: 'boom' }).catch(() => {});
    await expect.poll(async () => (await fixture.host.get(id)).state).toBe('failed');
    expect((await fixture.host.get(id)).stateValue).toBe('planning');

    for (const [width, height] of [
      [1400, 900],
      [400, 800],
    ] as const) {
      const page = await browser.newPage({ viewport: { width, height } });
      await page.goto(`${fixture.server.url}/#token=${TOKENS.alice}`);
      await page.goto(`${fixture.server.url}/#/supervisors/${id}`);
      const active = page.locator('#supervisor-diagram .state.active');
      await expect.poll(() => active.getAttribute('data-state-id')).toBe('brittle.failed');
      expect(await active.count()).toBe(1);
      const error = page.locator('#supervisor-summary .error-message');
      await expect.poll(() => error.textContent()).toBe('the plan has no steps');
      // The stack is there, folded.
      expect(await page.locator('#supervisor-summary details').getAttribute('open')).toBeNull();
      await page.screenshot({
        path: `test-artifacts/supervisor-failed-${width}.png`,
        fullPage: true,
      });
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
        width,
      );
      expect(await seriousViolations(page)).toEqual([]);
      await page.screenshot({ path: `test-artifacts/supervisor-failed-${width}.png` });

      await page.goto(`${fixture.server.url}/#/machines`);
      const badge = page.locator(
        '[data-machine-id="brittle"] [data-state-id="brittle.failed"] .count-badge text',
      );
      await expect.poll(() => badge.textContent()).toBe('1');
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
        width,
      );
      expect(await seriousViolations(page)).toEqual([]);
      await page.screenshot({ path: `test-artifacts/machines-${width}.png` });
      expect(
        await page
          .locator('[data-machine-id="brittle"] [data-state-id="brittle.planning"] .count-badge')
          .count(),
      ).toBe(0);
      await page.close();
    }

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${fixture.server.url}/#token=${TOKENS.alice}`);
    await page.goto(`${fixture.server.url}/#/supervisors/${id}`);
    await page.locator('[data-action="retry"]').click();
    // Nothing is sent before the confirmation; leaving it as it is sends nothing.
    await page.locator('[data-action="keep"]').click();
    expect((await fixture.host.get(id)).state).toBe('failed');
    await page.locator('[data-action="retry"]').click();
    await page.getByLabel('Reason for retrying').fill('fixed the plan');
    await page.getByRole('button', { name: 'Retry supervisor' }).click();
    await expect.poll(async () => (await fixture.host.get(id)).state).toBe('working');
    const active = page.locator('#supervisor-diagram .state.active');
    await expect.poll(() => active.getAttribute('data-state-id')).toBe('brittle.planning');
    await expect.poll(() => page.locator('#control-status').textContent()).toMatch(/^Retry: done/);
    await page.close();
  }, 60_000);

  it('replays the journal on the statechart: the state at each of 20 entries, by slider and by play', async () => {
    const { id } = await fixture.host.spawn('traffic', {}, { owner: 'alice' });
    // Green is where it lingers: the Machines page colours it the slowest.
    for (let k = 1; k <= 20; k++) {
      await fixture.host.send(id, { type: 'next' });
      if (CYCLE[k % 3] === 'green') await new Promise((resolve) => setTimeout(resolve, LINGER_MS));
    }
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${fixture.server.url}/#token=${TOKENS.alice}`);
    await page.goto(`${fixture.server.url}/#/supervisors/${id}`);
    const position = page.locator('#supervisor-journal .position');
    await expect.poll(() => position.textContent()).toBe('21 of 21');
    const slider = page.locator('#supervisor-journal input.replay');
    const shown = page.locator('#supervisor-diagram .state.checkpoint');
    // Entry 0 is the spawn (red); entry k the k-th `next`.
    for (let k = 0; k <= 20; k++) {
      await slider.fill(String(k));
      await expect.poll(() => position.textContent()).toBe(`${k + 1} of 21`);
      await expect.poll(() => shown.getAttribute('data-state-id')).toBe(`traffic.${CYCLE[k % 3]}`);
      expect(await shown.count()).toBe(1);
      expect(await page.locator('#supervisor-journal .entry-state').textContent()).toBe(
        CYCLE[k % 3],
      );
    }
    // The live state stays marked apart from the replayed one: 20 steps from red is yellow.
    expect(
      await page.locator('#supervisor-diagram .state.active').getAttribute('data-state-id'),
    ).toBe('traffic.yellow');
    await slider.fill('17');
    await page.locator('#supervisor-journal button.play').click();
    await expect.poll(() => position.textContent(), { timeout: 10_000 }).toBe('21 of 21');
    await expect
      .poll(() => page.locator('#supervisor-journal button.play').textContent())
      .toBe('Play');
    await page.screenshot({ path: 'test-artifacts/supervisor-replay-1400.png', fullPage: true });

    await page.goto(`${fixture.server.url}/#/machines`);
    const card = page.locator('section.machine[data-machine-id="traffic"]');
    const green = card.locator('[data-state-id="traffic.green"]');
    await expect.poll(() => green.getAttribute('data-median-ms')).not.toBeNull();
    expect(Number(await green.getAttribute('data-median-ms'))).toBeGreaterThanOrEqual(
      LINGER_MS - 10,
    );
    const fill = (state: string) =>
      card
        .locator(`[data-state-id="traffic.${state}"] > .outline`)
        .evaluate(
          (node) =>
            (
              globalThis as unknown as { getComputedStyle(n: unknown): { fill: string } }
            ).getComputedStyle(node).fill,
        );
    const green_ = (rgb: string) => Number(rgb.match(/\d+/g)?.[1]);
    // Slowest reddest (little green in it), quickest palest.
    expect(green_(await fill('green'))).toBeLessThan(120);
    for (const quick of ['red', 'yellow']) {
      expect(
        Number(
          await card.locator(`[data-state-id="traffic.${quick}"]`).getAttribute('data-median-ms'),
        ),
      ).toBeLessThan(LINGER_MS - 100);
      expect(green_(await fill(quick))).toBeGreaterThan(200);
    }
    expect(await card.locator('tr[data-state-value="green"] td').nth(2).textContent()).toMatch(
      / ms$/,
    );
    expect(await seriousViolations(page)).toEqual([]);
    await card.screenshot({ path: 'test-artifacts/machines-heat-1400.png' });
    await page.close();
  }, 60_000);
});
