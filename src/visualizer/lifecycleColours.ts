import type { LifecycleState } from '../model/supervisor.ts';

/** How a lifecycle state is painted, the same in Mermaid and in SVG. */
export interface LifecycleColour {
  fill: string;
  stroke: string;
}

/**
 * One colour per lifecycle tag: waiting states warm (someone or something must act),
 * working cool, terminal states green / red / grey, so a reader sees at a glance where a
 * supervisor would sit idle.
 */
export const LIFECYCLE_COLOURS: Readonly<Record<LifecycleState, LifecycleColour>> = Object.freeze({
  initializing: { fill: '#e0f2fe', stroke: '#0369a1' },
  working: { fill: '#dbeafe', stroke: '#1d4ed8' },
  waiting_for_user: { fill: '#fef3c7', stroke: '#b45309' },
  waiting_for_tasks: { fill: '#ede9fe', stroke: '#6d28d9' },
  paused: { fill: '#e5e7eb', stroke: '#4b5563' },
  completed: { fill: '#dcfce7', stroke: '#15803d' },
  failed: { fill: '#fee2e2', stroke: '#b91c1c' },
  cancelled: { fill: '#f3f4f6', stroke: '#6b7280' },
});
