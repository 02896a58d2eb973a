import { LIFECYCLE_STATES } from '../model/supervisor.ts';
import type { MachineGraph } from './graph.ts';
import { LIFECYCLE_COLOURS } from './lifecycleColours.ts';
import { toMermaid } from './mermaid.ts';
import { toSvg } from './svg.ts';
import { escapeXml } from './text.ts';

/**
 * A standalone HTML page: the SVG inline, a legend of the lifecycle colours in use, and
 * the Mermaid source in a `<details>`. It loads nothing from the network, so it opens
 * from disk, in CI artifacts and offline.
 *
 * @example
 * await writeFile('reference.html', await toHtml(toGraph(referenceSupervisor)));
 */
export async function toHtml(graph: MachineGraph): Promise<string> {
  const title = `${graph.machineId} — statechart`;
  const used = LIFECYCLE_STATES.filter((s) => graph.nodes.some((n) => n.lifecycle === s));
  const legend = used.map((state) => {
    const { fill, stroke } = LIFECYCLE_COLOURS[state];
    return `<li><span class="swatch" style="background:${fill};border-color:${stroke}"></span>${state}</li>`;
  });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(title)}</title>
<style>
body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:24px;color:#0f172a}
h1{font-size:20px;margin:0 0 12px}
figure{margin:0;overflow:auto}
ul.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:16px;font-size:13px}
.swatch{display:inline-block;width:14px;height:14px;border:1.5px solid;border-radius:3px;margin-right:6px;vertical-align:-2px}
pre{background:#f1f5f9;padding:12px;overflow:auto;font-size:12px}
</style>
</head>
<body>
<h1>${escapeXml(title)}</h1>
<ul class="legend">${legend.join('')}</ul>
<figure>
${(await toSvg(graph)).trimEnd()}
</figure>
<details>
<summary>Mermaid source</summary>
<pre><code>${escapeXml(toMermaid(graph))}</code></pre>
</details>
</body>
</html>
`;
}
