// The statechart as a standalone SVG, drawn from ELK's coordinates. Every state is its own
// flat group (not nested in its parent's), so a style aimed at one active state never
// paints the states inside it.
import { LIFECYCLE_STATES } from '../model/supervisor.ts';
import type { MachineGraph } from './graph.ts';
import { type Layout, layoutGraph, METRICS, type PlacedEdge, type PlacedState } from './layout.ts';
import { LIFECYCLE_COLOURS } from './lifecycleColours.ts';
import { escapeXml } from './text.ts';

const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";

/**
 * Lays the graph out with ELK and draws it: rounded boxes for states (regions of a
 * parallel state dashed, final states with a double border, history states as a circle
 * with `H` or `H*`), a filled dot at each initial state, arrows with their labels.
 *
 * Each state is a `<g class="state …" data-state-id="<xstate state node id>">`; a page
 * showing a live supervisor marks its current states by adding the class `active` (the
 * SVG already styles `.state.active > .outline`). Same graph, same bytes.
 *
 * @example
 * const svg = await toSvg(toGraph(referenceSupervisor));
 */
export async function toSvg(graph: MachineGraph): Promise<string> {
  const layout = await layoutGraph(graph);
  const markerId = `steward-arrow-${graph.machineId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="steward-statechart" width="${layout.width}" height="${layout.height}" viewBox="0 0 ${layout.width} ${layout.height}" font-family="${escapeXml(FONT)}" data-machine-id="${escapeXml(graph.machineId)}">`,
    `<title>${escapeXml(graph.machineId)}</title>`,
    `<style>${styles()}</style>`,
    `<defs><marker id="${markerId}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#475569"/></marker></defs>`,
    ...layout.states.map(drawState),
    ...layout.initials.map(
      (p) => `<circle class="initial" cx="${n(p.x)}" cy="${n(p.y)}" r="${METRICS.initialRadius}"/>`,
    ),
    ...drawEdges(layout, markerId),
    '</svg>',
  ];
  return `${out.join('\n')}\n`;
}

function styles(): string {
  const lifecycle = LIFECYCLE_STATES.map((state) => {
    const { fill, stroke } = LIFECYCLE_COLOURS[state];
    return `.lifecycle-${state}>.outline{fill:${fill};stroke:${stroke}}`;
  });
  return [
    '.state>.outline,.state>.inner{fill:#ffffff;stroke:#64748b;stroke-width:1.2}',
    '.state.compound>.outline,.state.parallel>.outline{fill:#f8fafc}',
    '.state.region>.outline{fill:none;stroke-dasharray:6 4}',
    '.state>.inner{fill:none}',
    '.title{font-size:13px;font-weight:600;fill:#0f172a}',
    '.caption{font-size:11px;font-style:italic;fill:#475569}',
    '.detail{font-size:11px;fill:#334155}',
    '.initial{fill:#0f172a}',
    '.transition>path,.initial-transition>path{fill:none;stroke:#475569;stroke-width:1.2}',
    '.transition-label>rect{fill:#ffffff;fill-opacity:0.9}',
    '.transition-label>text{font-size:11px;fill:#1e293b}',
    ...lifecycle,
    // Last, so it wins over the lifecycle colours: the live-state hook (docs/visualizer.md).
    '.state.active>.outline{stroke:#e11d48;stroke-width:3}',
  ].join('');
}

function drawState({ node, box, text, region }: PlacedState): string {
  const classes = ['state', node.type];
  if (region) classes.push('region');
  if (node.lifecycle) classes.push(`lifecycle-${node.lifecycle}`);
  const attributes = [
    `class="${classes.join(' ')}"`,
    `data-state-id="${escapeXml(node.id)}"`,
    ...(node.lifecycle ? [`data-lifecycle="${node.lifecycle}"`] : []),
  ];
  const parts = [`<g ${attributes.join(' ')}>`, `<title>${escapeXml(node.id)}</title>`];

  if (node.type === 'history') {
    const r = METRICS.historyRadius;
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    parts.push(`<circle class="outline" cx="${n(cx)}" cy="${n(cy)}" r="${r}"/>`);
    parts.push(textLine('title', text.title, cx, cy + METRICS.titleSize / 2 - 2, 'middle'));
    return `${parts.join('')}</g>`;
  }

  parts.push(rect('outline', box, 8));
  if (node.type === 'final') {
    parts.push(
      rect(
        'inner',
        { ...box, x: box.x + 4, y: box.y + 4, width: box.width - 8, height: box.height - 8 },
        5,
      ),
    );
  }
  // A leaf's text is centred in it; a container's sits in its header, left-aligned.
  const leaf = node.children.length === 0;
  const inset = node.type === 'final' ? 4 : 0;
  const x = leaf ? box.x + box.width / 2 : box.x + METRICS.padX;
  const anchor = leaf ? 'middle' : 'start';
  let y = box.y + inset + METRICS.padY + METRICS.titleSize - 2;
  parts.push(textLine('title', text.title, x, y, anchor));
  const small = [
    ...(text.caption ? [['caption', text.caption] as const] : []),
    ...text.details.map((line) => ['detail', line] as const),
  ];
  for (const [kind, line] of small) {
    y += METRICS.smallSize + METRICS.lineGap;
    parts.push(textLine(kind, line, x, y, anchor));
  }
  return `${parts.join('')}</g>`;
}

/** The arrows, then every label above all of them: no later arrow is drawn across a label. */
function drawEdges(layout: Layout, markerId: string): string[] {
  const arrows = layout.edges.map((edge: PlacedEdge) => {
    const d = edge.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${n(p.x)},${n(p.y)}`).join(' ');
    const path = `<path d="${d}" marker-end="url(#${markerId})"/>`;
    const t = edge.transition;
    if (!t) return `<g class="initial-transition">${path}</g>`;
    return `<g class="transition" ${edgeAttributes(edge, t)}>${path}</g>`;
  });
  const labels = layout.edges.flatMap((edge: PlacedEdge) => {
    const { label, transition } = edge;
    if (!label || !transition) return [];
    const text = textLine(
      '',
      label.text,
      label.box.x + label.box.width / 2,
      label.box.y + label.box.height - 4,
      'middle',
    );
    return [
      `<g class="transition-label" ${edgeAttributes(edge, transition)}>${rect('', label.box, 3)}${text}</g>`,
    ];
  });
  return [...arrows, ...labels];
}

function edgeAttributes(edge: PlacedEdge, t: NonNullable<PlacedEdge['transition']>): string {
  return [
    `data-transition-id="${t.id}"`,
    `data-source="${escapeXml(t.source)}"`,
    `data-target="${escapeXml(edge.target ?? '')}"`,
    `data-event="${escapeXml(t.event)}"`,
  ].join(' ');
}

function rect(
  cls: string,
  box: { x: number; y: number; width: number; height: number },
  r: number,
) {
  const classAttribute = cls ? `class="${cls}" ` : '';
  return `<rect ${classAttribute}x="${n(box.x)}" y="${n(box.y)}" width="${n(box.width)}" height="${n(box.height)}" rx="${r}"/>`;
}

function textLine(cls: string, content: string, x: number, y: number, anchor: string): string {
  const classAttribute = cls ? `class="${cls}" ` : '';
  return `<text ${classAttribute}x="${n(x)}" y="${n(y)}" text-anchor="${anchor}">${escapeXml(content)}</text>`;
}

/** Coordinates rounded to 0.01 px: stable text, and no float noise in diffs. */
function n(value: number): string {
  return String(Math.round(value * 100) / 100);
}
