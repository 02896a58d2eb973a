import { describe, expect, it } from 'vitest';
import { referenceSupervisor } from '../../src/machines/referenceSupervisor.ts';
import { toGraph } from '../../src/visualizer/graph.ts';
import { type Box, layoutGraph, type Point } from '../../src/visualizer/layout.ts';
import { kitchenSink } from './fixtures.ts';

/** Distance from a point to a box (0 inside it). */
function pointToBox(p: Point, box: Box): number {
  const dx = Math.max(box.x - p.x, 0, p.x - (box.x + box.width));
  const dy = Math.max(box.y - p.y, 0, p.y - (box.y + box.height));
  return Math.hypot(dx, dy);
}

/** Distance from an axis-parallel segment to a box, sampled every pixel along it. */
function segmentToBox(a: Point, b: Point, box: Box): number {
  const steps = Math.max(1, Math.ceil(Math.hypot(b.x - a.x, b.y - a.y)));
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i <= steps; i++) {
    const t = i / steps;
    best = Math.min(best, pointToBox({ x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t }, box));
  }
  return best;
}

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

describe('layoutGraph', () => {
  for (const [name, machine] of [
    ['reference supervisor', referenceSupervisor],
    ['kitchen sink', kitchenSink],
  ] as const) {
    it(`places each edge label beside the start of its own arrow, none on another (${name})`, async () => {
      const layout = await layoutGraph(toGraph(machine));
      const labelled = layout.edges.filter((e) => e.label);
      expect(labelled.length).toBeGreaterThan(3);
      for (const edge of labelled) {
        const box = edge.label?.box as Box;
        const points = edge.points;
        // Beside the segment that leaves the source, not somewhere down a long edge; a self
        // loop goes round its state, and its label sits beside the loop.
        const segments = edge.target === edge.transition?.source ? points.length - 1 : 1;
        const distance = Math.min(
          ...points.slice(0, segments).map((p, i) => segmentToBox(p, points[i + 1] as Point, box)),
        );
        expect(distance, edge.label?.text).toBeLessThanOrEqual(6);
      }
      for (const [i, a] of labelled.entries()) {
        for (const b of labelled.slice(i + 1)) {
          expect(
            overlaps(a.label?.box as Box, b.label?.box as Box),
            `${a.label?.text} / ${b.label?.text}`,
          ).toBe(false);
        }
      }
    });
  }
});
