// bench/million.ts's `steward serve` child: spawned, timed to "Steward listening on" with
// its RSS then, its start timeline from the log, stopped, or killed after a failure.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { fmt } from '../support.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONFIG_FILE = fileURLToPath(new URL('../million.config.ts', import.meta.url));

/** One JSON log line of the runtime, with when it was printed relative to the spawn. */
export interface LogLine {
  atMs: number;
  msg: string;
  fields: Record<string, unknown>;
}

export interface Started {
  child: ChildProcess;
  exited: Promise<number | null>;
  url: string;
  startMs: number;
  rssBytes: number;
  peakRssBytes: number;
  deferred: number | undefined;
  restored: number | undefined;
  failed: number | undefined;
  timeline: LogLine[];
  /** Log lines at warn or above after the start, counted (the first few are printed). */
  problems: { count: number };
}

/** The `steward serve` child while it runs: a Ctrl-C or a failure must not leave it behind. */
let serveChild: ChildProcess | undefined;

/** VmRSS and VmHWM of a process, in bytes. */
export function rssOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rss: kib('VmRSS') * 1024, peak: kib('VmHWM') * 1024 };
}

export function startServe(url: string, token: string): Promise<Started> {
  const args = [
    '--import',
    'tsx',
    'src/cli.ts',
    'serve',
    '--port',
    '0',
    '--no-demo',
    '--config',
    CONFIG_FILE,
  ];
  console.log(`  serve: node ${args.join(' ')}`);
  const spawnedWall = Date.now();
  const spawned = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: url,
      STEWARD_TOKENS: `*:${token}`,
      LOG_LEVEL: 'info',
      STEWARD_RESTORE: 'lazy',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  serveChild = child;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      serveChild = undefined;
      resolve(code);
    }),
  );
  const timeline: LogLine[] = [];
  const problems = { count: 0 };
  return new Promise<Started>((resolve, reject) => {
    let listening = false;
    let deferred: number | undefined;
    // Read to the end, also after the start: a full pipe would block the runtime's logger.
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const receivedMs = performance.now() - spawned;
      let fields: Record<string, unknown>;
      try {
        fields = JSON.parse(line) as Record<string, unknown>;
      } catch {
        console.log(`  serve: ${line}`);
        return;
      }
      const msg = String(fields.msg ?? '');
      if (listening) {
        if (Number(fields.level) >= 40 && ++problems.count <= 5) console.log(`  serve: ${line}`);
        return;
      }
      const time = typeof fields.time === 'string' ? Date.parse(fields.time) : Number.NaN;
      timeline.push({ atMs: Number.isNaN(time) ? receivedMs : time - spawnedWall, msg, fields });
      if (msg === 'restore deferred to first touch') deferred = Number(fields.deferred);
      if (msg.startsWith('Steward listening on')) {
        listening = true;
        const { rss, peak } = rssOf(child.pid as number);
        resolve({
          child,
          exited,
          url: String(fields.url),
          startMs: receivedMs,
          rssBytes: rss,
          peakRssBytes: peak,
          deferred,
          restored: fields.restored as number | undefined,
          failed: fields.failed as number | undefined,
          timeline,
          problems,
        });
      }
    });
    void exited.then((code) => {
      if (!listening) reject(new Error(`steward serve exited with ${code} before listening`));
    });
  });
}

/** The start as its log lines tell it, with the gap each step took. */
export function printTimeline(timeline: readonly LogLine[]): void {
  const shown =
    timeline.length <= 30 ? timeline : [...timeline.slice(0, 15), ...timeline.slice(-15)];
  let previous = 0;
  console.log('  start timeline (ms since spawn, from the runtime log timestamps; +gap):');
  for (const [i, line] of shown.entries()) {
    if (timeline.length > 30 && i === 15) {
      console.log(`    … ${timeline.length - 30} lines …`);
    }
    const extra = Object.entries(line.fields)
      .filter(([k]) => !['level', 'time', 'pid', 'name', 'msg', 'hostname'].includes(k))
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
      .join(' ');
    console.log(
      `    ${fmt(line.atMs).padStart(7)} (+${fmt(line.atMs - previous)})  ${line.msg}${extra ? `  [${extra.slice(0, 160)}]` : ''}`,
    );
    previous = line.atMs;
  }
}

export async function stopServe(started: Started): Promise<number> {
  const t0 = performance.now();
  started.child.kill('SIGTERM');
  const code = await started.exited;
  console.log(
    `  serve: stopped by SIGTERM in ${fmt((performance.now() - t0) / 1000, 1)} s (exit ${code})`,
  );
  return code ?? -1;
}

/** Kills the child if it still runs (a failure, a Ctrl-C); resolves once it has exited. */
export async function killServe(): Promise<void> {
  const child = serveChild;
  if (!child) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await gone;
}
