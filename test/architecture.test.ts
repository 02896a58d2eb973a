// Import direction is a rule: machines see only xstate and zod, persistence only its
// drivers, and nothing but the composition root picks an adapter.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../src/', import.meta.url).pathname;

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : [join(dir, e.name)])),
  );
  return nested.flat().filter((f) => f.endsWith('.ts'));
}

async function importsOf(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)].map(
    (m) => m[1] as string,
  );
}

/** Where an import points: a package name, a node builtin, or a folder of src/. */
function target(file: string, spec: string): string {
  if (spec.startsWith('node:')) return 'node';
  if (!spec.startsWith('.'))
    return spec.startsWith('@')
      ? spec.split('/').slice(0, 2).join('/')
      : (spec.split('/')[0] as string);
  const path = relative(SRC, join(file, '..', spec));
  return path.includes('/') ? `src/${path.split('/')[0]}` : `src/${path}`;
}

const ALLOWED: Record<string, (t: string) => boolean> = {
  'src/model': (t) => t === 'zod' || t === 'src/model',
  'src/machines': (t) =>
    ['xstate', 'zod', 'src/model', 'src/machines', 'src/errors.ts'].includes(t),
  'src/protocol': (t) => ['zod', 'src/model', 'src/protocol'].includes(t),
  'src/runtime': (t) =>
    [
      'node',
      'xstate',
      'zod',
      'src/runtime',
      'src/machines',
      'src/model',
      'src/persistence',
      'src/errors.ts',
      'src/logger.ts',
      'src/timers.ts',
    ].includes(t),
  'src/persistence': (t) =>
    [
      'node',
      'pg',
      '@electric-sql/pglite',
      'zod',
      'src/persistence',
      'src/model',
      'src/errors.ts',
      'src/logger.ts',
      'src/timers.ts',
    ].includes(t),
  // The server calls the runtime's public methods: no actors, no database.
  'src/server': (t) =>
    [
      'node',
      'ws',
      'hono',
      '@hono/node-server',
      'prom-client',
      'zod',
      'zod-openapi',
      'src/server',
      'src/protocol',
      'src/runtime',
      'src/machines',
      'src/model',
      'src/visualizer',
      'src/errors.ts',
      'src/logger.ts',
    ].includes(t),
  'src/client': (t) => ['node', 'ws', 'zod', 'src/client', 'src/protocol', 'src/model'].includes(t),
  // Design time only: reads machines, lays them out; never the runtime or the database.
  'src/visualizer': (t) =>
    [
      'node',
      'xstate',
      'zod',
      'elkjs',
      'src/visualizer',
      'src/machines',
      'src/model',
      'src/errors.ts',
    ].includes(t),
};

// The runtime sees persistence through the store interface, never through an engine.
const ADAPTERS = ['pg', '@electric-sql/pglite'];
const ADAPTER_FILES = ['pgDatabase.ts', 'pgliteDatabase.ts', 'openDatabase.ts', 'index.ts'];

// Inside the runtime the stages point one way: a live supervisor hands its writes to
// commit/, restore/ rebuilds live supervisors (and restarts their tasks); the writer and
// its committed changes know nothing of live supervisors or restoration, and no stage
// reaches back into the host at the runtime's root; the cluster's lease keeper knows
// nothing of supervisors. A file at the root is named by its path, a stage by its folder.
const RUNTIME_STAGES: Record<string, string[]> = {
  'runtime/cluster': ['runtime/cluster'],
  'runtime/commit': ['runtime/commit'],
  'runtime/forwarding': [
    'runtime/forwarding',
    'runtime/commit',
    'runtime/restore',
    'runtime/hostApi.ts',
    'runtime/hostErrors.ts',
    'runtime/inLine.ts',
  ],
  'runtime/live': ['runtime/live', 'runtime/commit'],
  'runtime/restore': ['runtime/restore', 'runtime/live', 'runtime/commit', 'runtime/taskRunner.ts'],
};

/** The stage folder of a file under src/runtime/ (`runtime/live`), or its path at the root. */
function runtimePart(path: string): string | undefined {
  const [top, second, third] = path.split('/');
  if (top !== 'runtime' || second === undefined) return undefined;
  return third === undefined ? path : `${top}/${second}`;
}

describe('architecture', () => {
  it('keeps database engines out of the runtime', async () => {
    const violations: string[] = [];
    for (const file of await sourceFiles(join(SRC, 'runtime'))) {
      for (const spec of await importsOf(file)) {
        const adapterFile =
          spec.includes('/persistence/') && ADAPTER_FILES.some((f) => spec.endsWith(`/${f}`));
        if (ADAPTERS.includes(target(file, spec)) || adapterFile) {
          violations.push(`${relative(SRC, file)} imports ${spec}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('keeps every folder to the imports it is allowed', async () => {
    const violations: string[] = [];
    for (const file of await sourceFiles(SRC)) {
      const folder = `src/${relative(SRC, file).split('/')[0]}`;
      const allowed = ALLOWED[folder];
      if (!allowed) continue;
      for (const spec of await importsOf(file)) {
        const t = target(file, spec);
        if (!allowed(t)) violations.push(`${relative(SRC, file)} imports ${spec}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('keeps the runtime stages to the stages they may import', async () => {
    const violations: string[] = [];
    const stagesSeen = new Set<string>();
    for (const file of await sourceFiles(join(SRC, 'runtime'))) {
      const part = runtimePart(relative(SRC, file)) as string;
      const allowed = RUNTIME_STAGES[part];
      if (!allowed) continue;
      stagesSeen.add(part);
      for (const spec of await importsOf(file)) {
        if (!spec.startsWith('.')) continue;
        const imported = runtimePart(relative(SRC, join(file, '..', spec)));
        if (imported !== undefined && !allowed.includes(imported)) {
          violations.push(`${relative(SRC, file)} imports ${spec}`);
        }
      }
    }
    expect(violations).toEqual([]);
    // A stage folder renamed or emptied would pass the rule above with nothing checked.
    expect([...stagesSeen].sort()).toEqual(Object.keys(RUNTIME_STAGES).sort());
  });

  it('builds SQL only in src/persistence', async () => {
    const offenders: string[] = [];
    for (const file of await sourceFiles(SRC)) {
      if (relative(SRC, file).startsWith('persistence/')) continue;
      const text = await readFile(file, 'utf8');
      if (/\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b/.test(text)) {
        offenders.push(relative(SRC, file));
      }
    }
    expect(offenders).toEqual([]);
  });
});
