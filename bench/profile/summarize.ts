// summarize mode: self time per function and per module of a .cpuprofile, limited to the
// window loop mode measured.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fmt } from '../support.ts';
import { pct } from './stats.ts';

interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The module a frame belongs to, for the grouped shares. */
function moduleOf(functionName: string, url: string): string {
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return 'idle (waiting for I/O)';
  if (functionName === '(program)') return 'V8/native (program)';
  if (functionName === 'jsonStringifyTimed' || functionName === 'jsonParseTimed')
    return 'JSON.stringify/parse';
  if (url.includes('/node_modules/xstate/')) return 'xstate';
  if (
    /\/node_modules\/(pg|pg-protocol|pg-pool|pg-types|pgpass|pg-connection-string|postgres-[a-z]+)\//.test(
      url,
    )
  )
    return 'pg';
  if (url.includes('/node_modules/zod/')) return 'zod';
  if (url.includes('/node_modules/pino')) return 'pino';
  if (url.includes('/node_modules/tsx/') || url.includes('/node_modules/esbuild'))
    return 'tsx loader';
  const dep = /\/node_modules\/((@[^/]+\/)?[^/]+)\//.exec(url);
  if (dep) return `other dependency (${dep[1]})`;
  const src = /\/src\/([^/]+)\//.exec(url);
  if (src) return `steward src/${src[1]}`;
  if (url.includes('/bench/')) return 'bench driver';
  if (url.startsWith('node:')) return 'node internals (net, streams, timers, ...)';
  return url === '' ? 'native bindings and builtins (writev, ...)' : 'other';
}

/** The main thread's profile (thread 0) of the newest run in `dir`. */
function newestProfile(dir: string): string {
  const files = readdirSync(dir)
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; tsx's loader thread writes one too.
    .filter((f) => f.endsWith('.cpuprofile') && f.split('.')[4] === '0')
    .map((f) => ({ f, t: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  if (!files[0]) throw new Error(`no main-thread .cpuprofile in ${dir}`);
  return join(dir, files[0].f);
}

const NOT_WORK = new Set(['(root)', '(idle)', '(program)', '(garbage collector)']);

export function summarize(target: string): void {
  const file = target.endsWith('.cpuprofile') ? target : newestProfile(target);
  const dir = file.slice(0, file.lastIndexOf('/'));
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const pid = file.split('/').pop()?.split('.')[3];
  let window: { startUs: number; endUs: number; processStartUs: number } | undefined;
  try {
    window = JSON.parse(readFileSync(join(dir, `window-${pid}.json`), 'utf8'));
  } catch {
    window = undefined;
  }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // Self time per profile node, within the window.
  let t = profile.startTime;
  const self = new Map<number, number>();
  let total = 0;
  const inWindow = (at: number) => !window || (at >= window.startUs && at <= window.endUs);
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    // A sample stands for the interval up to the next one.
    const span = profile.timeDeltas[i + 1] ?? 0;
    if (!inWindow(t)) continue;
    const id = profile.samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + span);
    total += span;
  }
  const frameKey = (id: number) => {
    const f = byId.get(id)?.callFrame;
    if (!f) return '?';
    const path = f.url.replace(/^file:\/\/.*?\/(node_modules|src|bench)\//, '$1/');
    // tsx's output keeps no useful line numbers for our own files.
    const where = !f.url
      ? ''
      : path.startsWith('node_modules/') || path.startsWith('node:')
        ? `${path}:${f.lineNumber + 1}`
        : path;
    return `${f.functionName || '(anonymous)'} ${where}`.trim();
  };
  const moduleOfNode = (id: number) => {
    const f = byId.get(id)?.callFrame;
    return moduleOf(f?.functionName ?? '', f?.url ?? '');
  };
  const perFunction = new Map<string, number>();
  const perModule = new Map<string, number>();
  const inclusiveModule = new Map<string, number>();
  const inclusiveFunction = new Map<string, number>();
  for (const [id, us] of self) {
    const key = frameKey(id);
    perFunction.set(key, (perFunction.get(key) ?? 0) + us);
    const mod = moduleOfNode(id);
    perModule.set(mod, (perModule.get(mod) ?? 0) + us);
    // Inclusive: once per sample for each module and function on the stack.
    const modules = new Set<string>();
    const functions = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = byId.get(at)?.callFrame.functionName ?? '';
      if (NOT_WORK.has(name)) continue;
      modules.add(moduleOfNode(at));
      functions.add(frameKey(at));
    }
    for (const m of modules) inclusiveModule.set(m, (inclusiveModule.get(m) ?? 0) + us);
    for (const f of functions) inclusiveFunction.set(f, (inclusiveFunction.get(f) ?? 0) + us);
  }
  const idle = perModule.get('idle (waiting for I/O)') ?? 0;
  const busy = total - idle;
  const share = (us: number) => `${pct(us, total).padStart(7)} ${pct(us, busy).padStart(7)}`;
  console.log(`profile ${file}`);
  console.log(
    window
      ? `window: ${fmt((window.endUs - window.startUs) / 1e6, 1)} s (the profile started ${fmt((window.processStartUs - profile.startTime) / 1000, 0)} ms before the script's first line)`
      : 'window: the whole profile (no window file)',
  );
  console.log(`sampled ${fmt(total / 1000, 0)} ms, of which not idle ${fmt(busy / 1000, 0)} ms`);
  console.log(
    '\ntop 20 functions by self time (ms, share of sampled time, share of non-idle time):',
  );
  const top = [...perFunction]
    .filter(([key]) => !key.startsWith('(idle)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 20);
  for (const [key, us] of top)
    console.log(`  ${fmt(us / 1000, 0).padStart(6)}  ${share(us)}  ${key}`);
  console.log(
    '\nby module, self time (ms, share of sampled, share of non-idle), then inclusive share of non-idle:',
  );
  for (const [mod, us] of [...perModule].sort((a, b) => b[1] - a[1])) {
    const inc = mod.startsWith('idle')
      ? ''
      : `   inclusive ${pct(inclusiveModule.get(mod) ?? 0, busy)}`;
    console.log(`  ${mod.padEnd(44)} ${fmt(us / 1000, 0).padStart(6)}  ${share(us)}${inc}`);
  }
  console.log(
    '\ntop 25 functions of steward, xstate, zod and pg by inclusive time (share of non-idle):',
  );
  const ours = [...inclusiveFunction]
    .filter(
      ([key]) => /(src|node_modules\/(xstate|zod|pg[a-z-]*))\//.test(key) || key.startsWith('json'),
    )
    .sort((a, b) => b[1] - a[1])
    .slice(0, 25);
  for (const [key, us] of ours) console.log(`  ${pct(us, busy).padStart(7)}  ${key}`);
}
