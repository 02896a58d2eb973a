// The visualizer's public API: machine → graph → Mermaid / SVG / JSON / HTML, and the
// `steward visualize` command.
export { type Arrow, arrowsOf } from './arrows.ts';
export { BUILT_IN_MACHINES } from './builtInMachines.ts';
export { runVisualize } from './command.ts';
export {
  type GraphActor,
  type GraphNode,
  type GraphTransition,
  type MachineGraph,
  toGraph,
  toJson,
  transitionText,
} from './graph.ts';
export { toHtml } from './html.ts';
export type { TriggerKind } from './labels.ts';
export { LIFECYCLE_COLOURS, type LifecycleColour } from './lifecycleColours.ts';
export { loadMachine, VisualizeInputError } from './loadMachine.ts';
export { toMermaid } from './mermaid.ts';
export { FORMATS, type Format, renderMachine } from './render.ts';
export { toSvg } from './svg.ts';
export type { VisualizeIo, VisualizeOptions } from './visualizeOptions.ts';
