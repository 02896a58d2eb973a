import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceSupervisor } from '../../src/machines/referenceSupervisor.ts';
import { runVisualize, type VisualizeIo } from '../../src/visualizer/command.ts';
import { toGraph } from '../../src/visualizer/graph.ts';
import { toMermaid } from '../../src/visualizer/mermaid.ts';

const REPO_MODULES = new URL('../../node_modules', import.meta.url).pathname;

function capture(extra: Partial<VisualizeIo> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: VisualizeIo = {
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    ...extra,
  };
  return { io, stdout: () => out.join(''), stderr: () => err.join('') };
}

function machineFile(states: string[]): string {
  const body = states.map((s, i) => `${s}: { on: { NEXT: '${states[i + 1] ?? states[0]}' } }`);
  return `import { createMachine } from 'xstate';
export const helper = 42;
export const machine = createMachine({ id: 'edited', initial: '${states[0]}', states: { ${body.join(', ')} } });
`;
}

async function until(predicate: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'steward-visualize-'));
  // The machine files import xstate; a temp dir finds it through the repo's node_modules.
  await symlink(REPO_MODULES, join(dir, 'node_modules'), 'dir');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runVisualize', () => {
  it('prints the reference supervisor as parsable JSON', async () => {
    const run = capture();
    expect(await runVisualize(['reference', '--format', 'json'], run.io)).toBe(0);
    const graph = JSON.parse(run.stdout());
    expect(graph).toEqual(JSON.parse(JSON.stringify(toGraph(referenceSupervisor))));
    expect(graph.machineId).toBe('reference');
    expect(run.stderr()).toBe('');
  });

  it('prints Mermaid by default', async () => {
    const run = capture();
    expect(await runVisualize(['reference'], run.io)).toBe(0);
    expect(run.stdout()).toBe(toMermaid(toGraph(referenceSupervisor)));
  });

  it('refuses an unknown machine id with exit code 2 and one clear line', async () => {
    const run = capture();
    expect(await runVisualize(['nope'], run.io)).toBe(2);
    expect(run.stderr()).toBe(
      'steward visualize: unknown machine "nope": give a module file (.ts, .js, .mjs) or a built-in id (reference)\n',
    );
    expect(run.stdout()).toBe('');
  });

  it('refuses bad arguments with exit code 2', async () => {
    for (const args of [
      [],
      ['reference', '--format', 'png'],
      ['reference', '--bogus'],
      ['a', 'b'],
    ]) {
      const run = capture();
      expect(await runVisualize(args, run.io), args.join(' ')).toBe(2);
      expect(run.stderr()).toMatch(/^steward visualize: .+\n$/);
    }
  });

  it('prints its usage for --help', async () => {
    const run = capture();
    expect(await runVisualize(['--help'], run.io)).toBe(0);
    expect(run.stdout()).toContain('usage: steward visualize <file-or-machine-id>');
    expect(run.stdout()).toContain('--watch');
  });

  it('writes --out to a file, in the format its extension names', async () => {
    const run = capture({ cwd: dir });
    expect(await runVisualize(['reference', '--out', 'reference.svg'], run.io)).toBe(0);
    const svg = await readFile(join(dir, 'reference.svg'), 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('data-state-id="reference.active.planning"');
    expect(svg).not.toContain('(no target)');
    expect(svg).toContain('supervisor.pause (stays)');
    expect(run.stdout()).toBe('');
    expect(run.stderr()).toBe(
      `steward visualize: wrote ${join(dir, 'reference.svg')} (svg, ${Buffer.byteLength(svg)} bytes)\n`,
    );
  });

  it('renders the machine a .ts file exports, or the one --export names', async () => {
    const file = join(dir, 'one.ts');
    await writeFile(file, machineFile(['red', 'green']));
    const run = capture({ cwd: dir });
    expect(await runVisualize(['one.ts'], run.io)).toBe(0);
    expect(run.stdout()).toContain('state "green" as green\n');
    expect(run.stdout()).toContain('red --> green: NEXT\n');

    const named = capture({ cwd: dir });
    expect(await runVisualize([file, '--export', 'machine', '--format', 'json'], named.io)).toBe(0);
    expect(JSON.parse(named.stdout()).machineId).toBe('edited');

    const wrong = capture({ cwd: dir });
    expect(await runVisualize([file, '--export', 'helper'], wrong.io)).toBe(2);
    expect(wrong.stderr()).toBe(
      `steward visualize: export "helper" of ${file} is not an XState machine\n`,
    );
  });

  it('asks for --export when a file exports several machines, and refuses a missing file', async () => {
    const file = join(dir, 'two.ts');
    await writeFile(
      file,
      `import { createMachine } from 'xstate';
export const a = createMachine({ id: 'a' });
export const b = createMachine({ id: 'b' });
`,
    );
    const run = capture();
    expect(await runVisualize([file], run.io)).toBe(2);
    expect(run.stderr()).toContain('exports several machines (a, b): pick one with --export NAME');

    const missing = capture();
    expect(await runVisualize([join(dir, 'absent.ts')], missing.io)).toBe(2);
    expect(missing.stderr()).toContain('no such file');
  });

  it('renders again when the watched file changes, until stopped', async () => {
    const file = join(dir, 'watched.ts');
    const out = join(dir, 'watched.mmd');
    await writeFile(file, machineFile(['first', 'second']));
    const stop = new AbortController();
    const run = capture({ signal: stop.signal, cwd: dir });
    const renders = () => run.stderr().match(/render \d+: /g)?.length ?? 0;
    const watching = runVisualize(['watched.ts', '--watch', '--out', out], run.io);

    await until(() => renders() === 1, 'the first render');
    expect(await readFile(out, 'utf8')).toContain('first --> second: NEXT');
    await writeFile(file, machineFile(['first', 'second', 'third']));
    await until(() => renders() === 2, 'the render after the edit');
    const after = await readFile(out, 'utf8');
    expect(after).toContain('state "third" as third');
    expect(after).toContain('second --> third: NEXT');

    stop.abort();
    expect(await watching).toBe(0);
    expect(run.stderr()).toMatch(/render 2: watched\.ts as mermaid to .*watched\.mmd\n$/);
  });

  it('refuses --watch on a built-in machine', async () => {
    const run = capture();
    expect(await runVisualize(['reference', '--watch'], run.io)).toBe(2);
    expect(run.stderr()).toContain('--watch needs a module file');
  });
});
