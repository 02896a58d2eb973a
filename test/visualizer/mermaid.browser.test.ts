// The Mermaid text `steward visualize` writes is read by the real `mermaid` package, in
// Chromium, as GitHub would render it: every machine we ship or test with renders to an
// SVG that draws each of its states, without a parse error.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceSupervisor } from '../../src/machines/referenceSupervisor.ts';
import { toGraph } from '../../src/visualizer/graph.ts';
import { toMermaid } from '../../src/visualizer/mermaid.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { testRegistry } from '../helpers/testMachines.ts';

const MERMAID = new URL('../../node_modules/mermaid/dist/mermaid.min.js', import.meta.url).pathname;

describe('Mermaid output in the real mermaid package', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(() => browser?.close());

  it('renders the reference supervisor and every test machine, each state drawn', async () => {
    const page = await browser.newPage();
    await page.setContent('<!doctype html><html><body></body></html>');
    await page.addScriptTag({ path: MERMAID });
    await page.evaluate('mermaid.initialize({ startOnLoad: false })');
    const machines = [
      referenceSupervisor,
      ...testRegistry()
        .list()
        .map((definition) => definition.machine),
    ];
    for (const [i, machine] of machines.entries()) {
      const graph = toGraph(machine);
      const text = toMermaid(graph);
      const rendered = (await page.evaluate(
        async ([id, source]) => {
          try {
            const { svg } = await (
              globalThis as unknown as {
                mermaid: { render(id: string, text: string): Promise<{ svg: string }> };
              }
            ).mermaid.render(id as string, source as string);
            return { svg };
          } catch (error) {
            return { error: String((error as Error)?.message ?? error) };
          }
        },
        [`diagram${i}`, text],
      )) as { svg?: string; error?: string };
      expect(rendered.error, `${machine.id}:\n${text}`).toBeUndefined();
      for (const node of graph.nodes) {
        if (node.path.length === 0 || node.type === 'history') continue;
        expect(rendered.svg, `${machine.id}: state ${node.key}`).toContain(`>${node.key}<`);
      }
    }
    await page.close();
  }, 60_000);
});
