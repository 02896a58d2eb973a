import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import { referenceSupervisor } from '../../src/machines/referenceSupervisor.ts';
import { type MachineGraph, toGraph, transitionText } from '../../src/visualizer/graph.ts';
import { toHtml } from '../../src/visualizer/html.ts';
import { toMermaid } from '../../src/visualizer/mermaid.ts';
import { toSvg } from '../../src/visualizer/svg.ts';
import { escapeXml } from '../../src/visualizer/text.ts';
import { kitchenSink } from './fixtures.ts';

const count = (text: string, part: string): number => text.split(part).length - 1;

function expectEveryStateAndLabel(svg: string, graph: MachineGraph): void {
  for (const node of graph.nodes) {
    expect(count(svg, `data-state-id="${escapeXml(node.id)}"`), node.id).toBe(1);
    if (node.type !== 'history') expect(svg, node.key).toContain(`>${escapeXml(node.key)}</text>`);
  }
  for (const t of graph.transitions) {
    expect(svg, t.id).toContain(escapeXml(transitionText(t)));
  }
}

describe('toSvg', () => {
  it('draws the reference supervisor as well-formed SVG with every state and label', async () => {
    const graph = toGraph(referenceSupervisor);
    const svg = await toSvg(graph);
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expectEveryStateAndLabel(svg, graph);
    expect(svg).toContain('class="state atomic lifecycle-waiting_for_user"');
    expect(svg).toContain('data-lifecycle="paused"');
    expect(svg).toContain('.state.active>.outline{');
  });

  it('draws arrows as paths with arrowheads, one per arrow the diagram needs', async () => {
    const svg = await toSvg(toGraph(referenceSupervisor));
    // 19 transitions, 5 of them targetless; the 2 root ones drawn from both top-level states.
    expect(count(svg, '<g class="transition"')).toBe(16);
    const paths = [
      ...svg.matchAll(/<path d="(M[^"]+)" marker-end="url\(#steward-arrow-reference\)"/g),
    ];
    expect(paths.length).toBe(16 + 3); // and one arrow from each of the 3 initial dots
    for (const [, d] of paths) expect(d).toMatch(/^M[\d.-]+,[\d.-]+( L[\d.-]+,[\d.-]+)+$/);
  });

  it('draws regions dashed, final states doubled, history as H or H*, initial dots', async () => {
    const graph = toGraph(kitchenSink);
    const svg = await toSvg(graph);
    expect(XMLValidator.validate(svg)).toBe(true);
    expectEveryStateAndLabel(svg, graph);
    expect(svg).toContain('class="state compound region" data-state-id="sink.work.left"');
    expect(count(svg, '<rect class="inner"')).toBe(3); // done, failed, work.right.d
    expect(svg).toMatch(
      /data-state-id="sink\.work\.right\.deep"><title>[^<]*<\/title><circle class="outline"[^>]*\/><text class="title"[^>]*>H\*<\/text>/,
    );
    expect(svg).toMatch(/data-state-id="sink\.work\.left\.hist">.*>H<\/text>/);
    const compounds = graph.nodes.filter((n) => n.type === 'compound').length;
    expect(count(svg, '<circle class="initial"')).toBe(compounds);
    expect(svg).toContain('invoke fetch (fetchData)');
    expect(svg).toContain('spawn tick (ticker)');
  });

  it('escapes any state key and stays well formed', async () => {
    const machine = createMachine({
      id: 'x<&>"\'',
      initial: '<a & "b">',
      states: { '<a & "b">': { on: { 'go<&>': "it's" } }, "it's": { type: 'final' } },
    });
    const svg = await toSvg(toGraph(machine));
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).toContain('>&lt;a &amp; &quot;b&quot;&gt;</text>');
    expect(svg).toContain('>go&lt;&amp;&gt;</text>');
  });

  it('gives the same bytes for the same machine', async () => {
    const graph = toGraph(referenceSupervisor);
    expect(await toSvg(graph)).toBe(await toSvg(graph));
  });
});

describe('toHtml', () => {
  it('embeds the SVG and the Mermaid source and loads nothing from the network', async () => {
    const graph = toGraph(referenceSupervisor);
    const html = await toHtml(graph);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain((await toSvg(graph)).trimEnd());
    expect(html).toContain(`<pre><code>${escapeXml(toMermaid(graph))}</code></pre>`);
    expect(html).toContain('<details>');
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    expect(html).not.toMatch(/<(script|link|img|iframe)\b/);
  });
});
