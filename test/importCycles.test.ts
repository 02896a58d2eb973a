// No module in src/ may import itself back, directly or through others (issue 13): a cycle
// hides which stage a piece belongs to, and under ESM one side sees the other half-loaded.
// dependency-cruiser builds the graph, type-only imports included (`tsPreCompilationDeps`):
// a type that both ends of a cycle need is a piece of its own, not a reason for the cycle.
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;

let cruised: Promise<ICruiseResult> | undefined;

/** One cruise of src/ for both tests. */
function cruiseSources(): Promise<ICruiseResult> {
  cruised ??= cruiseOnce();
  return cruised;
}

async function cruiseOnce(): Promise<ICruiseResult> {
  const { output } = await cruise(['src'], {
    baseDir: ROOT,
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
    validate: true,
    ruleSet: {
      forbidden: [{ name: 'no-circular', severity: 'error', from: {}, to: { circular: true } }],
    },
  });
  return typeof output === 'string' ? (JSON.parse(output) as ICruiseResult) : output;
}

/** `a.ts → b.ts → a.ts`, starting from its first module in sort order, so each cycle is listed once. */
function describeCycle(modules: string[]): string {
  const start = modules.indexOf([...modules].sort()[0] as string);
  const rotated = [...modules.slice(start), ...modules.slice(0, start)];
  return [...rotated, rotated[0]].join(' → ');
}

describe('import cycles', () => {
  it('finds no import cycle in src/', async () => {
    const result = await cruiseSources();
    const cycles = new Set<string>();
    for (const violation of result.summary.violations) {
      if (violation.type !== 'cycle' || !violation.cycle) continue;
      // `cycle` runs from the import's target back to `from`, which it ends with.
      cycles.add(describeCycle(violation.cycle.map((step) => step.name)));
    }
    expect([...cycles].sort(), 'import cycles in src/ (each listed from its first file)').toEqual(
      [],
    );
  });

  it('resolves every import between source files, so no cycle hides behind one', async () => {
    const result = await cruiseSources();
    const unresolved = result.modules.flatMap((m) =>
      m.dependencies
        .filter((d) => d.couldNotResolve && d.module.startsWith('.'))
        .map((d) => `${m.source} imports ${d.module}`),
    );
    expect(unresolved).toEqual([]);
    const local = result.modules.filter((m) => m.source.startsWith('src/'));
    expect(local.length).toBeGreaterThan(100);
  });
});
