// Several nodes (the acceptance figures of `steward serve --cluster`), in one run on one
// PostgreSQL database of its own (`steward_cluster_bench_<pid>`):
//
// 1. Answers/s over WebSocket with 1, 2 and 3 node processes. BENCH_CLUSTER_CLIENTS (1,000)
//    bench supervisors are stored first, one per owner; the nodes are real `steward serve
//    --cluster --restore eager` children. For each node count, once the slices are shared
//    evenly, every client (its own owner's token) connects to a node picked at random,
//    subscribes and answers every question it is sent. A node that does not own a
//    supervisor forwards the answer through PostgreSQL to the owner and hears the next
//    question from the journal, so most answers cross nodes once there are two. Counted
//    over BENCH_SECONDS (10) after BENCH_WARMUP_SECONDS (2): acked answers/s, answer → ack
//    latency, refusals by code, and the CPU per answer of the nodes, PostgreSQL and the
//    clients (this process), read from /proc.
// 2. Failover of BENCH_FAILOVER_SUPERVISORS (10,000) supervisors, each waiting for an
//    answer, with lease TTL BENCH_LEASE_TTL_MS (3,000): the database is made afresh, the
//    supervisors stored, two nodes started and the slices shared 128/128. The first node is
//    SIGKILLed; counted from the kill until every supervisor it owned has
//    restoration_source 'failover' and a higher restoration_count in supervisor_states
//    (polled), and until a WebSocket client subscribed on the survivor has received a
//    `question.asked` for each of them.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench:cluster
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { createMachineRegistry } from '../src/machines/registry.ts';
import { SLICE_COUNT, sliceOf } from '../src/model/slices.ts';
import type { Database } from '../src/persistence/database.ts';
import { migrate } from '../src/persistence/migrator.ts';
import { openPgDatabase } from '../src/persistence/pgDatabase.ts';
import { createSupervisorStore } from '../src/persistence/supervisorStore.ts';
import { ERROR_REGISTRY, type ErrorCode } from '../src/protocol/errorCodes.ts';
import type { ServerFrame } from '../src/protocol/frames.ts';
import { createSupervisorHost } from '../src/runtime/supervisorHost.ts';
import { steward } from '../test/helpers/cli.ts';
import { benchMachineDefinition } from './benchMachine.ts';
import { backendTimes, cpuSecondsBetween, type ProcTimes } from './cpuTimes.ts';
import {
  createDatabase,
  dropDatabase,
  envNumber,
  fmt,
  quantile,
  runPool,
  sleep,
} from './support.ts';
import { benchToken } from './wsClients.ts';

const serverUrl = process.env.DATABASE_URL;
if (!serverUrl) {
  console.error(
    'Set DATABASE_URL to a PostgreSQL server; the bench creates and drops its own database.',
  );
  process.exit(1);
}
const clients = Math.round(envNumber('BENCH_CLUSTER_CLIENTS', 1_000));
const maxNodes = Math.round(envNumber('BENCH_CLUSTER_NODES', 3));
const seconds = envNumber('BENCH_SECONDS', 10);
const warmupSeconds = envNumber('BENCH_WARMUP_SECONDS', 2);
const failoverSupervisors = Math.round(envNumber('BENCH_FAILOVER_SUPERVISORS', 10_000));
const ttlMs = Math.round(envNumber('BENCH_LEASE_TTL_MS', 3_000));
const ADMIN_TOKEN = 'bench-cluster-admin-token-0123456789';
const STEWARD = new URL('../src/index.ts', import.meta.url).pathname;
const BENCH_MACHINE = new URL('./benchMachine.ts', import.meta.url).pathname;
const CLOCK_TICKS_PER_SECOND = 100;

// ---- the node processes ----

interface LogLine {
  msg: string;
  [key: string]: unknown;
}

interface StewardNode {
  label: string;
  child: ChildProcess;
  url: string;
  wsUrl: string;
  logs: LogLine[];
  exited: Promise<void>;
}

/** The node's lease view from its `/healthz`. */
interface NodeHealth {
  nodeId: string;
  slicesHeld: number;
  callsForwarded: number;
  callsServed: number;
}

const started: StewardNode[] = [];

/**
 * Starts `steward serve --cluster` from the sources as its own process (as the several-nodes
 * tests do, test/helpers/faultRuntime.ts) and resolves once it listens. Info logging: the
 * takes and give-backs are how a failover is explained, and nothing logs per answer.
 */
async function startNode(label: string, databaseUrl: string, dir: string): Promise<StewardNode> {
  const child = spawn(
    process.execPath,
    steward(
      'serve',
      '--config',
      join(dir, 'steward.config.ts'),
      '--tokens-file',
      join(dir, 'tokens.json'),
      '--port',
      '0',
      '--cluster',
      '--lease-ttl',
      String(ttlMs),
      '--restore',
      'eager',
    ),
    {
      env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const node: StewardNode = { label, child, url: '', wsUrl: '', logs: [], exited };
  started.push(node);
  const stderr: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const listening = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${label} did not listen within 120 s`)),
      120_000,
    );
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited (${code ?? signal}) before listening: ${stderr.join('')}`));
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: text };
      }
      node.logs.push(line);
      if (line.msg.startsWith('Steward listening on')) {
        node.url = String(line.url);
        node.wsUrl = `${node.url.replace(/^http/, 'ws')}/ws`;
        clearTimeout(timer);
        resolve();
      }
    });
  });
  await listening;
  return node;
}

function running(node: StewardNode): boolean {
  return node.child.exitCode === null && node.child.signalCode === null;
}

/** SIGTERM (a graceful leave: writes flushed, slices given back), SIGKILL if it hangs. */
async function stopNode(node: StewardNode): Promise<void> {
  if (!running(node)) return;
  node.child.kill('SIGTERM');
  const timer = setTimeout(() => node.child.kill('SIGKILL'), 20_000);
  await node.exited;
  clearTimeout(timer);
}

async function health(node: StewardNode): Promise<NodeHealth> {
  const response = await fetch(`${node.url}/healthz`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  const body = (await response.json()) as { node?: NodeHealth };
  if (!body.node) throw new Error(`${node.label}'s /healthz says nothing of a node`);
  return body.node;
}

/**
 * Resolves once the nodes hold every slice between them, evenly (a joining node takes its
 * share a few slices per lease period), and the restores of what they took have ended:
 * measuring while slices move would count refusals and restores, not answers.
 */
async function evenShare(nodes: readonly StewardNode[]): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const held = await Promise.all(nodes.map(async (n) => (await health(n)).slicesHeld));
    const sum = held.reduce((a, b) => a + b, 0);
    // The fixed point of the share rule (src/runtime/cluster/fairShare.ts): none above the
    // rounded-up share, none unheld; 86/86/84 with three nodes.
    if (sum === SLICE_COUNT && Math.max(...held) <= Math.ceil(SLICE_COUNT / nodes.length)) break;
    if (Date.now() > deadline) throw new Error(`slices not shared evenly: ${held.join('/')}`);
    await sleep(250);
  }
  // A take's restore is logged when it ends; one lease period without a take or a
  // give-back is taken as settled.
  const seen = nodes.map((node) => node.logs.length);
  let quietSince = Date.now();
  while (Date.now() - quietSince < ttlMs / 3) {
    await sleep(100);
    nodes.forEach((node, i) => {
      const fresh = node.logs.slice(seen[i]);
      seen[i] = node.logs.length;
      if (fresh.some((l) => /^slices (taken|given back)/.test(l.msg))) quietSince = Date.now();
    });
  }
}

/** CPU ticks so far of a process (user + system), from /proc; 0 once it is gone. */
function procTicks(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

// ---- the database ----

/**
 * Stores `count` bench supervisors, each asking its first question, through a host in this
 * process: quicker than through the nodes' HTTP API, and done before any node starts, so
 * that the nodes restore them as they take their slices.
 */
async function seed(
  databaseUrl: string,
  count: number,
  ownerOf: (i: number) => string | undefined,
) {
  const db = await openPgDatabase({ connectionString: databaseUrl, max: 8 });
  try {
    await migrate(db);
    const registry = createMachineRegistry();
    registry.register(benchMachineDefinition);
    const host = createSupervisorHost({
      store: createSupervisorStore(db),
      registry,
      heartbeatIntervalMs: 0,
    });
    const from = performance.now();
    await runPool(count, 64, async (i) => {
      const owner = ownerOf(i);
      await host.spawn('bench', undefined, owner === undefined ? {} : { owner });
    });
    await host.stop();
    console.log(
      `  stored ${fmt(count)} bench supervisors in ${fmt((performance.now() - from) / 1000, 1)} s`,
    );
  } finally {
    await db.close();
  }
}

// ---- the clients ----

/** What the clients of one node count saw; latencies only while measuring. */
interface Tally {
  measuring: boolean;
  answers: number;
  /** Answer → ack of answers the client's node applied itself, and of those it forwarded. */
  localMs: number[];
  forwardedMs: number[];
  /** Refusals by code, warm-up included: a moving slice shows here. */
  errors: Map<string, number>;
  retries: number;
}

function newTally(): Tally {
  return {
    measuring: false,
    answers: 0,
    localMs: [],
    forwardedMs: [],
    errors: new Map(),
    retries: 0,
  };
}

/** The n of a bench question id `q-n`. */
function questionNumber(questionId: string): number {
  return Number(questionId.slice(2));
}

/**
 * One client, as bench/wsClients.ts has it: its owner's token, subscribed to all it may see,
 * answering every question at once. Unlike there, a retryable refusal (a slice that moved)
 * is sent again, since nothing else would ask that question again; and a question already
 * answered is not answered twice when the journal tail re-delivers it.
 */
function openClient(
  index: number,
  url: string,
  tally: Tally,
  ownsHere: (supervisorId: string) => boolean,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${benchToken(index)}` } });
    const sent = new Map<string, { at: number; supervisorId: string; questionId: string }>();
    let requests = 0;
    let answeredUpTo = 0;
    const answer = (supervisorId: string, questionId: string) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      const requestId = `a${++requests}`;
      sent.set(requestId, { at: performance.now(), supervisorId, questionId });
      ws.send(JSON.stringify({ type: 'answer', requestId, supervisorId, questionId, value: true }));
    };
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', requestId: 's', all: true })));
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as ServerFrame;
      if (frame.type === 'subscribed') resolve(ws);
      else if (frame.type === 'question.asked') {
        const n = questionNumber(frame.questionId);
        if (n <= answeredUpTo) return;
        answeredUpTo = n;
        answer(frame.supervisorId, frame.questionId);
      } else if (frame.type === 'answer.ack') {
        const request = sent.get(frame.requestId);
        sent.delete(frame.requestId);
        if (tally.measuring && request) {
          const ms = performance.now() - request.at;
          (ownsHere(request.supervisorId) ? tally.localMs : tally.forwardedMs).push(ms);
          tally.answers++;
        }
      } else if (frame.type === 'error') {
        tally.errors.set(frame.code, (tally.errors.get(frame.code) ?? 0) + 1);
        const request = frame.requestId === null ? undefined : sent.get(frame.requestId);
        if (frame.requestId !== null) sent.delete(frame.requestId);
        if (request && ERROR_REGISTRY[frame.code as ErrorCode]?.retryable) {
          tally.retries++;
          setTimeout(() => answer(request.supervisorId, request.questionId), 50);
        }
      }
    });
  });
}

interface PhaseResult {
  nodes: number;
  answersPerSecond: number;
  p50: number;
  p99: number;
  local: { answers: number; p50: number; p99: number };
  forwarded: { answers: number; p50: number; p99: number };
  connectMs: number;
  forwardedShare: number;
  errors: Map<string, number>;
  retries: number;
  nodeCpuUsPerAnswer: number;
  pgCpuUsPerAnswer: number;
  clientCpuUsPerAnswer: number;
  nodeCores: number;
}

/** Connects every client to a random node of `nodes`, warms up, measures, disconnects. */
async function measure(nodes: readonly StewardNode[], db: Database): Promise<PhaseResult> {
  const tally = newTally();
  // Who owns each slice now (they do not move once shared evenly): so that each answer's
  // latency is counted as local or forwarded.
  const nodeIds = (await Promise.all(nodes.map(health))).map((h) => h.nodeId);
  const { rows: leases } = await db.query<{ slice: number; node_id: string }>(
    'SELECT slice, node_id FROM slice_leases WHERE expires_at > now()',
  );
  const ownerOf = new Map(leases.map((l) => [l.slice, nodeIds.indexOf(l.node_id)]));
  const sockets: WebSocket[] = [];
  const connecting = performance.now();
  await runPool(clients, 50, async (i) => {
    const at = Math.floor(Math.random() * nodes.length);
    const node = nodes[at] as StewardNode;
    sockets.push(await openClient(i, node.wsUrl, tally, (id) => ownerOf.get(sliceOf(id)) === at));
  });
  const connectMs = performance.now() - connecting;
  await sleep(warmupSeconds * 1000);

  const pids = nodes.map((n) => n.child.pid);
  const ticksBefore = pids.map(procTicks);
  const pgBefore: ProcTimes[] = await backendTimes(db, 'mine');
  const healthBefore = await Promise.all(nodes.map(health));
  const clientCpuBefore = process.cpuUsage();
  tally.measuring = true;
  const from = performance.now();
  await sleep(seconds * 1000);
  tally.measuring = false;
  const elapsed = (performance.now() - from) / 1000;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const ticksAfter = pids.map(procTicks);
  const pgAfter = await backendTimes(db, 'mine');
  const healthAfter = await Promise.all(nodes.map(health));
  for (const ws of sockets) ws.terminate();

  const perAnswer = (cpuSeconds: number) => (cpuSeconds * 1e6) / Math.max(1, tally.answers);
  const nodeSeconds =
    ticksAfter.reduce((sum, t, i) => sum + t - (ticksBefore[i] as number), 0) /
    CLOCK_TICKS_PER_SECOND;
  const forwarded = healthAfter.reduce(
    (sum, h, i) => sum + h.callsForwarded - (healthBefore[i] as NodeHealth).callsForwarded,
    0,
  );
  const latency = (samples: number[]) => {
    const sorted = Float64Array.from(samples).sort();
    return { answers: samples.length, p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99) };
  };
  const all = latency([...tally.localMs, ...tally.forwardedMs]);
  return {
    nodes: nodes.length,
    answersPerSecond: tally.answers / elapsed,
    p50: all.p50,
    p99: all.p99,
    local: latency(tally.localMs),
    forwarded: latency(tally.forwardedMs),
    connectMs,
    // The nodes' own count, as a check of the bench's split by slice owner.
    forwardedShare: forwarded / Math.max(1, tally.answers),
    errors: tally.errors,
    retries: tally.retries,
    nodeCpuUsPerAnswer: perAnswer(nodeSeconds),
    // The backends of the bench database: the nodes' pools and this process's one connection.
    pgCpuUsPerAnswer: perAnswer(cpuSecondsBetween(pgBefore, pgAfter).seconds),
    clientCpuUsPerAnswer: perAnswer((clientCpu.user + clientCpu.system) / 1e6),
    nodeCores: nodeSeconds / elapsed,
  };
}

/** The answers a client's node applied itself and those it forwarded, with their latency. */
function split(p: PhaseResult): string {
  const part = (label: string, l: PhaseResult['local']) =>
    l.answers === 0
      ? `${label} none`
      : `${label} ${fmt(l.answers)} (p50 ${fmt(l.p50, 1)} ms, p99 ${fmt(l.p99, 1)} ms)`;
  return `${part('local', p.local)}, ${part('forwarded', p.forwarded)}; the nodes counted ${fmt(p.forwardedShare * 100)}% forwarded`;
}

function describeErrors(errors: Map<string, number>, retries: number): string {
  if (errors.size === 0) return 'no refusals';
  const list = [...errors].map(([code, n]) => `${code} ×${fmt(n)}`).join(', ');
  return `refusals ${list} (${fmt(retries)} sent again)`;
}

// ---- failover ----

interface FailoverResult {
  supervisors: number;
  orphans: number;
  slices: number;
  firstRestoredMs: number;
  restoredMs: number;
  questionsMs: number;
  /** What the survivor logged of restoring the slices it took after the kill. */
  takes: Array<{ slices: number; restored: number; ms: number }>;
}

/**
 * A client of the survivor that sees everything (an admin token): the time of the first
 * `question.asked` of each supervisor after `since()` becomes a number.
 */
function watchQuestions(url: string, firstAsked: Map<string, number>, since: () => number) {
  return new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    ws.on('error', reject);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'subscribe', requestId: 's', all: true })));
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as ServerFrame;
      if (frame.type === 'subscribed') resolve(ws);
      // The pending questions sent with the subscription come before the kill: not counted.
      const at = since();
      if (frame.type === 'question.asked' && at > 0 && !firstAsked.has(frame.supervisorId)) {
        firstAsked.set(frame.supervisorId, performance.now() - at);
      }
    });
  });
}

async function failover(databaseUrl: string, dir: string, db: Database): Promise<FailoverResult> {
  const victim = await startNode('failover node A', databaseUrl, dir);
  const survivor = await startNode('failover node B', databaseUrl, dir);
  await evenShare([victim, survivor]);
  const victimId = (await health(victim)).nodeId;

  const firstAsked = new Map<string, number>();
  let killedAt = 0;
  const watcher = await watchQuestions(survivor.wsUrl, firstAsked, () => killedAt);
  // What the victim owns now, and how often each was restored: a failover raises the count.
  const { rows: owned } = await db.query<{ id: string; restoration_count: number }>(
    `SELECT id, restoration_count FROM supervisor_states
     WHERE slice IN (SELECT slice FROM slice_leases WHERE node_id = $1)`,
    [victimId],
  );
  const { rows: leases } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM slice_leases WHERE node_id = $1',
    [victimId],
  );
  const orphanIds = owned.map((r) => r.id);
  const orphans = new Set(orphanIds);
  const counts = owned.map((r) => r.restoration_count);
  const reAsked = () => [...firstAsked.keys()].filter((id) => orphans.has(id)).length;
  const logsBefore = survivor.logs.length;

  killedAt = performance.now();
  victim.child.kill('SIGKILL');
  let firstRestoredMs = Number.NaN;
  let restoredMs = Number.NaN;
  const deadline = Date.now() + 120_000 + 4 * ttlMs;
  while (Number.isNaN(restoredMs) || reAsked() < orphanIds.length) {
    if (Date.now() > deadline) {
      throw new Error(
        `failover not done in time: ${reAsked()} of ${orphanIds.length} questions re-sent`,
      );
    }
    if (Number.isNaN(restoredMs)) {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM supervisor_states s
         JOIN unnest($1::uuid[], $2::int[]) AS o(id, restoration_count) ON s.id = o.id
         WHERE s.restoration_source = 'failover' AND s.restoration_count > o.restoration_count`,
        [orphanIds, counts],
      );
      const n = (rows[0] as { n: number }).n;
      const at = performance.now() - killedAt;
      if (n > 0 && Number.isNaN(firstRestoredMs)) firstRestoredMs = at;
      if (n === orphanIds.length) restoredMs = at;
    }
    await sleep(50);
  }
  const questionsMs = Math.max(
    ...[...firstAsked].filter(([id]) => orphans.has(id)).map(([, ms]) => ms),
  );
  watcher.terminate();
  const takes = survivor.logs
    .slice(logsBefore)
    .filter((l) => l.msg.startsWith('slices taken'))
    .map((l) => ({ slices: Number(l.slices), restored: Number(l.restored), ms: Number(l.ms) }));
  await stopNode(survivor);
  return {
    supervisors: failoverSupervisors,
    orphans: orphanIds.length,
    slices: (leases[0] as { n: number }).n,
    firstRestoredMs,
    restoredMs,
    questionsMs,
    takes,
  };
}

// ---- the run ----

const runStarted = performance.now();
const name = `steward_cluster_bench_${process.pid}`;
const dir = await mkdtemp(join(tmpdir(), 'steward-cluster-bench-'));
await writeFile(
  join(dir, 'steward.config.ts'),
  [
    `import { defineConfig } from ${JSON.stringify(STEWARD)};`,
    `import { benchMachineDefinition } from ${JSON.stringify(BENCH_MACHINE)};`,
    // Never passivated: a supervisor leaving memory mid-run would be a restore, not an answer.
    'export default defineConfig({ machines: [benchMachineDefinition], passivateAfterMs: 0 });',
  ].join('\n'),
);
await writeFile(
  join(dir, 'tokens.json'),
  JSON.stringify([
    { token: ADMIN_TOKEN, admin: true },
    ...Array.from({ length: clients }, (_, i) => ({ token: benchToken(i), owner: `o${i}` })),
  ]),
);
let url = await createDatabase(serverUrl, name);
let db: Database | undefined;
const phases: PhaseResult[] = [];
let failed: FailoverResult | undefined;
try {
  console.log(`Part 1: ${fmt(clients)} clients, 1 to ${maxNodes} nodes, ${seconds} s each`);
  await seed(url, clients, (i) => `o${i}`);
  db = await openPgDatabase({ connectionString: url, max: 1 });
  const nodes: StewardNode[] = [];
  for (let n = 1; n <= maxNodes; n++) {
    nodes.push(await startNode(`node ${n}`, url, dir));
    await evenShare(nodes);
    const result = await measure(nodes, db);
    phases.push(result);
    console.log(
      `  nodes ${n}: ${fmt(result.answersPerSecond, 1)} answers/s (p50 ${fmt(result.p50, 1)} ms, p99 ${fmt(result.p99, 1)} ms); ${split(result)}; ${describeErrors(result.errors, result.retries)}; clients connected in ${fmt(result.connectMs / 1000, 1)} s`,
    );
  }
  await Promise.all(nodes.map(stopNode));
  await db.close();
  db = undefined;

  // A fresh database: part 1's supervisors and node rows would only blur the failover.
  console.log(
    `Part 2: failover of ${fmt(failoverSupervisors)} supervisors, lease TTL ${fmt(ttlMs)} ms`,
  );
  await dropDatabase(serverUrl, name);
  url = await createDatabase(serverUrl, name);
  await seed(url, failoverSupervisors, () => undefined);
  db = await openPgDatabase({ connectionString: url, max: 1 });
  failed = await failover(url, dir, db);
} finally {
  await Promise.all(started.map(stopNode));
  await db?.close();
  await dropDatabase(serverUrl, name);
  await rm(dir, { recursive: true, force: true });
}

console.log('\n=== Steward several-nodes benchmark ===');
for (const p of phases) {
  console.log(
    `nodes ${p.nodes}: ${fmt(p.answersPerSecond, 1)} answers/s (p50 ${fmt(p.p50, 1)} ms, p99 ${fmt(p.p99, 1)} ms)`,
  );
}
for (const p of phases) {
  console.log(`  nodes ${p.nodes}: ${split(p)}`);
  console.log(
    `  nodes ${p.nodes} CPU per answer: nodes ${fmt(p.nodeCpuUsPerAnswer)} µs (${fmt(p.nodeCores, 2)} cores), PostgreSQL ${fmt(p.pgCpuUsPerAnswer)} µs, clients ${fmt(p.clientCpuUsPerAnswer)} µs; ${describeErrors(p.errors, p.retries)}`,
  );
}
if (failed) {
  console.log(
    `failover of ${fmt(failed.supervisors)} supervisors (TTL ${fmt(ttlMs)} ms): restored in ${fmt(failed.restoredMs)} ms, questions re-sent in ${fmt(failed.questionsMs)} ms`,
  );
  console.log(
    `  the killed node owned ${fmt(failed.orphans)} in ${failed.slices} slices; first restored at ${fmt(failed.firstRestoredMs)} ms; the survivor's restores: ${failed.takes.map((t) => `${t.slices} slices/${fmt(t.restored)} in ${fmt(t.ms)} ms`).join(', ')}`,
  );
}
console.log(`run took ${fmt((performance.now() - runStarted) / 1000, 1)} s`);
