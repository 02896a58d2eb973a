// Steward as a team installs it (issue 11): the packed tarball in a fresh directory beside
// the sources of examples/approval-app, run with plain `node` — no tsx on the command line,
// nothing from this repository but the tarball and the example's own files.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { engines, type TestEngine } from '../helpers/engines.ts';
import { codeBlocksImporting } from './codeBlocks.ts';

const run = promisify(execFile);
const REPO = new URL('../../', import.meta.url).pathname;
const EXAMPLE = join(REPO, 'examples/approval-app');

let project: string;
/** What every child gets: no NODE_OPTIONS (vitest's loaders), nothing of the repo on PATH. */
let cleanEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  const work = await mkdtemp(join(tmpdir(), 'steward-package-'));
  const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', work], {
    cwd: REPO,
    maxBuffer: 16 * 1024 * 1024,
  });
  const tarball = join(work, stdout.trim().split('\n').at(-1) as string);
  project = join(work, 'approval-app');
  await cp(EXAMPLE, project, {
    recursive: true,
    filter: (source) => !/node_modules|\.steward/.test(source),
  });
  // The example's own package.json, with Steward from the tarball instead of the registry.
  const manifest = JSON.parse(await readFile(join(project, 'package.json'), 'utf8'));
  manifest.dependencies.steward = `file:${tarball}`;
  // Only to type-check the consumer below; running needs none of these.
  manifest.devDependencies = { typescript: '5.9.3', '@types/node': '^20.19.43' };
  await writeFile(join(project, 'package.json'), JSON.stringify(manifest, null, 2));
  const { PATH, HOME } = process.env;
  cleanEnv = {
    PATH: PATH?.split(':')
      .filter((p) => !p.startsWith(REPO))
      .join(':'),
    HOME,
  };
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd: project,
    env: cleanEnv,
  });
}, 300_000);

afterAll(async () => {
  if (project) await rm(join(project, '..'), { recursive: true, force: true });
});

/** Runs a command in the project; its exit code and output, never a throw. */
async function inProject(file: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await run(file, args, {
      cwd: project,
      env: { ...cleanEnv, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

interface Serving {
  child: ChildProcess;
  url: string;
  lines: string[];
  exited: Promise<number | null>;
}

/** `steward serve` from the installed package, with plain node; resolves once it listens. */
async function serve(env: NodeJS.ProcessEnv): Promise<Serving> {
  const child = spawn(
    process.execPath,
    [
      'node_modules/.bin/steward',
      'serve',
      '--config',
      'steward.config.ts',
      '--port',
      '0',
      '--no-demo',
    ],
    { cwd: project, env: { ...cleanEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  // A test that fails half-way must not leave its runtime behind.
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      lines.push(line);
      const entry = JSON.parse(line) as { msg: string; url?: string };
      if (entry.msg.startsWith('Steward listening on') && entry.url) resolve(entry.url);
    });
    child.on('exit', (code) =>
      reject(new Error(`serve exited with ${code}: ${stderr.join('')}${lines.join('\n')}`)),
    );
  });
  return { child, url, lines, exited };
}

/** The typed client from `steward/client`, run by plain node in the project. */
const CLIENT_SCRIPT = `
import { createStewardClient } from 'steward/client';
const [url, token, id, count] = process.argv.slice(2);
const client = createStewardClient({ url, token, subscribe: { supervisorIds: [id] } });
let left = Number(count);
for await (const question of client.questions()) {
  if (left === 0) {
    console.log(JSON.stringify({ asked: question.questionId }));
    break;
  }
  const ack = await client.answer(question.supervisorId, question.questionId, true);
  console.log(JSON.stringify({ answered: question.questionId, version: ack.version }));
  if (--left === 0) break;
}
await client.close();
`;

// The HTTP side of steward/client, from the package: a supervisor's state, and a refusal.
const HTTP_SCRIPT = `
import { createStewardHttpClient } from 'steward/client';
const [url, token, id] = process.argv.slice(2);
const http = createStewardHttpClient({ url, token });
const { supervisor } = await http.supervisors.get(id);
const refused = await http.supervisors.get(crypto.randomUUID()).catch((error) => error);
console.log(JSON.stringify({ state: supervisor.state, refused: [refused.code, refused.status] }));
`;

async function api(serving: Serving, token: string, path: string, body?: unknown) {
  const response = await fetch(`${serving.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const stateOf = async (serving: Serving, token: string, id: string) =>
  ((await api(serving, token, `/supervisors/${id}`)).body.supervisor as { state: string }).state;

describe('the packed package, installed in a team project', () => {
  it('runs steward --help with plain node', async () => {
    const result = await inProject('npx', ['--no-install', 'steward', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^usage: steward <command>/);
    expect(result.stdout).toContain('steward.config.ts');
  });

  it("draws the config's machine by id, the TypeScript config loaded with plain node", async () => {
    const result = await inProject(process.execPath, [
      'node_modules/.bin/steward',
      'visualize',
      'expense-approval',
      '--format',
      'mermaid',
    ]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^stateDiagram-v2\n/);
    expect(result.stdout).toContain('managerApproval');
  });

  it('type-checks a consumer of steward and steward/client, and the docs that import them', async () => {
    const consumer = [
      "import { createSteward, defineConfig, type StewardConfig } from 'steward';",
      "import { createStewardClient } from 'steward/client';",
      'const config: StewardConfig = defineConfig({ machines: [], port: 0 });',
      'export const start = () => createSteward(config).ready;',
      "export const client = () => createStewardClient({ url: 'http://127.0.0.1:7420', token: 't' });",
    ].join('\n');
    await writeFile(join(project, 'consumer.ts'), consumer);
    const blocks = await codeBlocksImporting(['README.md', 'docs/machine-authoring.md'], REPO);
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    for (const [i, block] of blocks.entries()) {
      await writeFile(join(project, `doc-${i}.ts`), `// ${block.where}\n${block.code}`);
    }
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          allowImportingTsExtensions: true,
          types: ['node'],
        },
        include: ['*.ts', 'src'],
      }),
    );
    const result = await inProject(process.execPath, [
      'node_modules/typescript/bin/tsc',
      '-p',
      '.',
    ]);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
  }, 120_000);

  it('loads neither pg nor PGlite for steward/client', async () => {
    // A resolve hook reports every module the import pulls in.
    const hook = `
      let port;
      export function initialize(data) { port = data.port; }
      export async function resolve(specifier, context, next) {
        const result = await next(specifier, context);
        port.postMessage(result.url);
        return result;
      }`;
    await writeFile(join(project, 'trace-hook.mjs'), hook);
    const probe = `
      import { register } from 'node:module';
      import { MessageChannel } from 'node:worker_threads';
      const { port1, port2 } = new MessageChannel();
      const seen = [];
      port1.on('message', (url) => seen.push(url));
      register('./trace-hook.mjs', import.meta.url, { data: { port: port2 }, transferList: [port2] });
      const client = await import('steward/client');
      await new Promise((resolve) => setTimeout(resolve, 200));
      port1.close();
      console.log(JSON.stringify({ exports: Object.keys(client).length, seen }));`;
    await writeFile(join(project, 'probe.mjs'), probe);
    const result = await inProject(process.execPath, ['probe.mjs']);
    expect(result.stderr).toBe('');
    const { exports, seen } = JSON.parse(result.stdout) as { exports: number; seen: string[] };
    expect(exports).toBeGreaterThan(0);
    expect(seen.some((url) => url.includes('/steward/dist/client/'))).toBe(true);
    expect(seen.filter((url) => /node_modules\/(pg|@electric-sql\/pglite)\//.test(url))).toEqual(
      [],
    );
  });

  describe.each(engines.map((engine) => [engine.name, engine] as const))(
    'steward serve with the example config on %s',
    (name, engine: TestEngine) => {
      it("hosts the example's machine: created over HTTP, answered with steward/client, completed, restored with its question", async () => {
        const env: NodeJS.ProcessEnv = { STEWARD_DEV_TOKEN_FILE: join(project, `${name}-token`) };
        let dropDatabase = async () => {};
        if (name === 'postgres') {
          const db = await engine.openEmpty();
          const url = new URL(process.env.DATABASE_URL as string);
          url.pathname = db.location.slice(db.location.lastIndexOf('/'));
          env.DATABASE_URL = url.toString();
          dropDatabase = () => db.close();
        } else {
          env.STEWARD_DATA_DIR = join(project, '.steward', 'data');
        }
        await writeFile(join(project, 'answer.mjs'), CLIENT_SCRIPT);
        try {
          const first = await serve(env);
          const token = (await readFile(env.STEWARD_DEV_TOKEN_FILE as string, 'utf8')).trim();
          const created = await api(first, token, '/supervisors', {
            machineId: 'expense-approval',
            input: { title: 'conference trip', amount: 2_500, requester: 'ada' },
          });
          expect(created.status).toBe(201);
          const id = created.body.id as string;

          // Two approvals: the amount needs a second approver.
          const answered = await inProject(process.execPath, [
            'answer.mjs',
            first.url,
            token,
            id,
            '2',
          ]);
          expect(answered.stderr).toBe('');
          expect(
            answered.stdout
              .trim()
              .split('\n')
              .map((l) => JSON.parse(l).answered),
          ).toEqual(['manager-approval', 'finance-approval']);
          await expect.poll(() => stateOf(first, token, id), { timeout: 10_000 }).toBe('completed');
          await writeFile(join(project, 'http.mjs'), HTTP_SCRIPT);
          const viaHttp = await inProject(process.execPath, ['http.mjs', first.url, token, id]);
          expect(JSON.parse(viaHttp.stdout)).toEqual({
            state: 'completed',
            refused: ['ERR_SUPERVISOR_NOT_FOUND', 404],
          });
          const openApi = await api(first, token, '/openapi.json');
          const { version } = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8'));
          expect(openApi.body).toMatchObject({ openapi: '3.1.0', info: { version } });

          const waiting = await api(first, token, '/supervisors', {
            machineId: 'expense-approval',
            input: { title: 'new laptop', amount: 900, requester: 'grace' },
          });
          expect(waiting.status).toBe(201);
          const waitingId = waiting.body.id as string;
          first.child.kill('SIGINT');
          expect(await first.exited).toBe(0);
          expect(JSON.parse(first.lines.at(-1) as string).msg).toBe('Steward runtime stopped');

          const second = await serve(env);
          try {
            // Waiting for a person: left in its row by the lazy restart, until touched.
            const deferred = await api(second, token, `/supervisors/${waitingId}`);
            expect(deferred.body.supervisor).toMatchObject({
              state: 'waiting_for_user',
              restorationCount: 0,
            });
            // Asked again all the same: the client sees the question without answering it.
            const asked = await inProject(process.execPath, [
              'answer.mjs',
              second.url,
              token,
              waitingId,
              '0',
            ]);
            expect(JSON.parse(asked.stdout.trim())).toEqual({ asked: 'manager-approval' });
            // The first touch restores it, counted then.
            expect((await api(second, token, `/supervisors/${waitingId}/resume`, {})).status).toBe(
              200,
            );
            const restored = await api(second, token, `/supervisors/${waitingId}`);
            expect(restored.body.supervisor).toMatchObject({
              state: 'waiting_for_user',
              restorationCount: 1,
            });
          } finally {
            second.child.kill('SIGINT');
            expect(await second.exited).toBe(0);
          }
        } finally {
          await dropDatabase();
        }
      }, 120_000);
    },
  );
});
