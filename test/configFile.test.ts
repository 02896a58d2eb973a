// A team's steward.config.ts (issue 11): its machines in `steward serve`, `visualize` and
// `check-migration`, and one line with exit code 1 for every way the file can be wrong.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { steward as stewardArgs } from './helpers/cli.ts';

const run = promisify(execFile);
const STEWARD = new URL('../src/index.ts', import.meta.url).pathname;

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/** A directory holding `steward.config.ts` with `body` after the imports. */
async function project(body: string, name = 'steward.config.ts'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'steward-config-'));
  dirs.push(dir);
  // The file imports xstate as a team's would: from its project's node_modules.
  await symlink(new URL('../node_modules', import.meta.url).pathname, join(dir, 'node_modules'));
  const imports = [
    `import { setup } from 'xstate';`,
    `import { defineConfig, referenceSupervisor } from ${JSON.stringify(STEWARD)};`,
  ].join('\n');
  await writeFile(join(dir, name), `${imports}\n${body}\n`);
  return dir;
}

/** A machine with one tagged state, by id. */
const tagged = (id: string) =>
  `setup({}).createMachine({ id: '${id}', initial: 'idle', states: { idle: { tags: ['working'] } } })`;

async function steward(cwd: string, args: string[]) {
  const { DATABASE_URL: _unused, ...env } = process.env;
  try {
    const { stdout, stderr } = await run(process.execPath, stewardArgs(...args), {
      cwd,
      env: { ...env, STEWARD_DATA_DIR: join(cwd, 'data'), LOG_LEVEL: 'warn' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('steward.config.ts', () => {
  it.each([
    ['a syntax error', 'export default defineConfig({ machines: [ });', /cannot be loaded: /],
    ['no default export', 'export const config = defineConfig({});', /has no default export/],
    [
      'a machine with an untagged state',
      `export default defineConfig({ machines: [{ id: 'bad', version: 1, machine: setup({}).createMachine({ id: 'bad', initial: 'idle', states: { idle: {} } }) }] });`,
      /machine bad version 1 cannot be hosted: state "bad\.idle" has no lifecycle tag/,
    ],
    [
      'a duplicate machine id',
      `export default defineConfig({ machines: [{ id: 'twice', version: 1, machine: ${tagged('a')} }, { id: 'twice', version: 1, machine: ${tagged('b')} }] });`,
      /machine twice version 1 is already registered/,
    ],
    [
      'an unknown key',
      'export default defineConfig({ prot: 7000 } as never);',
      /unknown key "prot"/,
    ],
    [
      'a bad serve option',
      'export default defineConfig({ passivateAfterMs: -5 });',
      /steward\.config\.ts: passivateAfterMs is invalid/,
    ],
    [
      'something that is not a machine',
      `export default defineConfig({ machines: [{ id: 'x', version: 1, machine: {} as never }] });`,
      /machines\.0\.machine: must be an XState machine/,
    ],
  ])(
    'stops serve with one line and exit code 1 for %s',
    async (_, body, problem) => {
      const dir = await project(body);
      const result = await steward(dir, ['serve', '--port', '0']);
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^steward: steward\.config\.ts: /);
      expect(lines[0]).toMatch(problem);
    },
    60_000,
  );

  it('names a --config file that does not exist', async () => {
    const dir = await project('export default defineConfig({});');
    const result = await steward(dir, ['serve', '--config', 'elsewhere.config.ts']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(/^steward: elsewhere\.config\.ts: no such file/);
  });

  it("serves the config's machines without the demo, unless --demo asks for it", async () => {
    const dir = await project(
      `export default defineConfig({ machines: [{ id: 'mine', version: 1, machine: ${tagged('mine')} }], passivateAfterMs: 0 });`,
      'steward.config.mts',
    );
    const listening = async (args: string[]) => {
      const { DATABASE_URL: _unused, ...env } = process.env;
      const child = spawn(process.execPath, stewardArgs('serve', '--port', '0', ...args), {
        cwd: dir,
        env: { ...env, STEWARD_DATA_DIR: join(dir, `data${args.length}`) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise((resolve) => child.on('exit', resolve));
      const line = await new Promise<{ machines: string[]; demo: boolean }>((resolve) => {
        createInterface({ input: child.stdout }).on('line', (text) => {
          const entry = JSON.parse(text);
          if (entry.msg.startsWith('Steward listening on')) resolve(entry);
        });
      });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      return line;
    };
    expect(await listening([])).toMatchObject({ machines: ['mine'], demo: false });
    const withDemo = await listening(['--demo']);
    expect(withDemo.demo).toBe(true);
    expect(withDemo.machines.sort()).toEqual(['mine', 'reference']);
  }, 90_000);

  it("draws and dry-runs the config's machines by id", async () => {
    const dir = await project(
      `export default defineConfig({ machines: [{ id: 'mine', version: 1, machine: ${tagged('mine')} }] });`,
    );
    const drawn = await steward(dir, ['visualize', 'mine', '--format', 'mermaid']);
    expect(drawn.code).toBe(0);
    expect(drawn.stdout).toMatch(/^stateDiagram-v2\n/);
    expect(drawn.stdout).toContain('idle');
    const unknown = await steward(dir, ['visualize', 'reference']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('a machine id of the config (mine)');
    const checked = await steward(dir, ['check-migration']);
    expect(checked.code).toBe(0);
    expect(JSON.parse(checked.stdout.slice(checked.stdout.indexOf('{\n')))).toEqual({
      checkMigration: [],
    });
  }, 60_000);
});
