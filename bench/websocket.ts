// The WebSocket benchmark: with CLIENTS connected clients (each its own owner and token,
// one bench supervisor each), how many answers per second make the full round trip over
// the protocol (answer frame → commit → ack, and the next question delivered), against
// (a) the same supervisors answered in-process through host.answer on the same database
// in the same run. See bench/README.md.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../src/logger.ts';
import { createMachineRegistry } from '../src/machines/registry.ts';
import { migrate } from '../src/persistence/migrator.ts';
import { openPgDatabase } from '../src/persistence/pgDatabase.ts';
import { createSupervisorStore } from '../src/persistence/supervisorStore.ts';
import { createSupervisorHost } from '../src/runtime/supervisorHost.ts';
import { createTokenTable } from '../src/server/auth.ts';
import { createServerMetrics } from '../src/server/metrics.ts';
import { startServer } from '../src/server/server.ts';
import { benchMachineDefinition, benchQuestionId } from './benchMachine.ts';
import {
  createDatabase,
  dropDatabase,
  envNumber,
  fmt,
  quantile,
  runPool,
  sleep,
  WS_RESULT_PREFIX,
} from './support.ts';
import { benchToken } from './wsClients.ts';

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error(
    'Set DATABASE_URL to a PostgreSQL server; the bench creates and drops its own database.',
  );
  process.exit(1);
}
const clients = Math.round(envNumber('BENCH_WS_CLIENTS', 1_000));
const seconds = envNumber('BENCH_SECONDS', 10);
const warmupSeconds = envNumber('BENCH_WARMUP_SECONDS', 2);
const log = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', name: 'bench' });

const name = `steward_bench_ws_${process.pid}`;
const url = await createDatabase(databaseUrl, name);
const db = await openPgDatabase({ connectionString: url, max: 8 });
try {
  await migrate(db, { log });
  const registry = createMachineRegistry();
  registry.register(benchMachineDefinition);
  const metrics = createServerMetrics();
  const host = createSupervisorHost({
    store: createSupervisorStore(db),
    registry,
    log,
    heartbeatIntervalMs: 0,
    writer: { onBatch: metrics.observeBatch },
  });
  metrics.attach(host);
  console.log(`Spawning ${fmt(clients)} bench supervisors, one per owner…`);
  const ids: string[] = new Array(clients);
  await runPool(clients, 64, async (i) => {
    ids[i] = (await host.spawn('bench', undefined, { owner: `o${i}` })).id;
  });

  // (a) in-process: one answerer per supervisor, each waiting for its commit.
  console.log(`(a) in-process: ${fmt(clients)} answerers through host.answer for ${seconds} s`);
  const asked = new Array<number>(clients).fill(1);
  const latencies: number[] = [];
  let measuring = false;
  let running = true;
  let answered = 0;
  const loops = ids.map(async (id, i) => {
    while (running) {
      const started = performance.now();
      await host.answer(id, benchQuestionId(asked[i] as number), true);
      asked[i] = (asked[i] as number) + 1;
      if (measuring) {
        latencies.push(performance.now() - started);
        answered++;
      }
    }
  });
  await sleep(warmupSeconds * 1000);
  measuring = true;
  const from = performance.now();
  await sleep(seconds * 1000);
  measuring = false;
  const inProcessRate = answered / ((performance.now() - from) / 1000);
  running = false;
  await Promise.all(loops);
  const sortedA = Float64Array.from(latencies).sort();
  console.log(
    `    ${fmt(inProcessRate, 1)} answers/s, p50 ${fmt(quantile(sortedA, 0.5), 2)} ms, p99 ${fmt(quantile(sortedA, 0.99), 2)} ms`,
  );

  // (b) over WebSocket, clients in another process.
  const server = await startServer({
    host,
    tokens: createTokenTable(
      Array.from({ length: clients }, (_, i) => ({ token: benchToken(i), owner: `o${i}` })),
    ),
    metrics,
    log,
    port: 0,
    hostname: '127.0.0.1',
  });
  console.log(`(b) WebSocket: ${fmt(clients)} clients answering every question for ${seconds} s`);
  const result = await new Promise<{
    answersPerSecond: number;
    ackP50: number;
    ackP99: number;
    nextQuestionP50: number;
    nextQuestionP99: number;
  }>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./wsClients.ts', import.meta.url))],
      {
        env: {
          ...process.env,
          WS_URL: `${server.url.replace(/^http/, 'ws')}/ws`,
          CLIENTS: String(clients),
          SECONDS: String(seconds),
          WARMUP_SECONDS: String(warmupSeconds),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(WS_RESULT_PREFIX));
      if (code !== 0 || !line) reject(new Error(`clients exited ${code}: ${out}`));
      else resolve(JSON.parse(line.slice(WS_RESULT_PREFIX.length)));
    });
  });
  console.log(
    `    ${fmt(result.answersPerSecond, 1)} answers/s; answer→ack p50 ${fmt(result.ackP50, 2)} ms, p99 ${fmt(result.ackP99, 2)} ms; answer→next question p50 ${fmt(result.nextQuestionP50, 2)} ms, p99 ${fmt(result.nextQuestionP99, 2)} ms`,
  );
  console.log(
    `b/a = ${fmt(result.answersPerSecond / inProcessRate, 2)}x (protocol cost on the same server and run)`,
  );
  await server.close();
  await host.stop();
} finally {
  await db.close();
  await dropDatabase(databaseUrl, name);
}
