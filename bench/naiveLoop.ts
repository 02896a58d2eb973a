// The baseline a user would have written without Steward: actors of the same bench machine,
// and after every transition one upsert of `getPersistedSnapshot()` through a `pg` pool of
// 10, the writes of one actor one after another. Answered in the same closed loop as (b).
// See bench/README.md.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { type Actor, createActor } from 'xstate';
import { benchMachine } from './benchMachine.ts';
import { type CpuPerUnit, cpuPerUnit, readCpu } from './cpuTimes.ts';
import { fmt, IdleQueue, quantile, runPool, sleep } from './support.ts';

/** The pool size a user would leave at node-postgres's default. */
export const NAIVE_POOL_MAX = 10;

const CREATE_TABLE = `CREATE TABLE naive_supervisors (
  id uuid PRIMARY KEY,
  snapshot jsonb NOT NULL,
  version integer NOT NULL,
  updated_at timestamptz
)`;

const UPSERT = `INSERT INTO naive_supervisors (id, snapshot, version, updated_at)
VALUES ($1, $2, $3, now())
ON CONFLICT (id) DO UPDATE
SET snapshot = excluded.snapshot, version = excluded.version, updated_at = excluded.updated_at`;

export interface NaiveLoopOptions {
  /** The bench database; the loop creates `naive_supervisors` in it. */
  url: string;
  supervisors: number;
  inFlight: number;
  warmupSeconds: number;
  seconds: number;
  spawnConcurrency: number;
}

export interface NaiveLoopResult {
  answersPerSecond: number;
  answers: number;
  seconds: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  spawnSeconds: number;
  /** CPU per durable answer in the window, Node and PostgreSQL (from /proc). */
  cpu: CpuPerUnit;
  /** Whether the rows' versions add up to the answers acknowledged. */
  check: string;
}

/**
 * One actor and its row. Every snapshot the actor emits (its start, each transition) is
 * serialized at once and upserted after the actor's previous upsert has finished: one
 * statement per transition, never two in flight for one actor, none skipped or merged.
 */
class PersistedActor {
  readonly id = randomUUID();
  private readonly actor: Actor<typeof benchMachine>;
  private version = 0;
  private lastWrite: Promise<void> = Promise.resolve();

  constructor(private readonly pool: pg.Pool) {
    this.actor = createActor(benchMachine);
    // XState notifies observers synchronously inside start() and send().
    this.actor.subscribe(() => this.persist());
  }

  /** Starts the actor; resolves once its first row (asking q-1) is stored. */
  start(): Promise<void> {
    this.actor.start();
    return this.lastWrite;
  }

  /** The question the actor waits on, read from its in-memory snapshot. */
  pendingQuestionId(): string | undefined {
    return this.actor.getSnapshot().context.pendingQuestions[0]?.id;
  }

  /** Sends the answer; resolves once the upsert of the resulting snapshot has committed. */
  answer(questionId: string): Promise<void> {
    this.actor.send({ type: 'question.answered', questionId, value: true, answeredBy: null });
    return this.lastWrite;
  }

  stop(): void {
    this.actor.stop();
  }

  private persist(): void {
    const snapshot = JSON.stringify(this.actor.getPersistedSnapshot());
    this.version++;
    const params = [this.id, snapshot, this.version];
    // A failed write rejects for the caller waiting on it, not for the writes after it.
    this.lastWrite = this.lastWrite
      .catch(() => undefined)
      .then(async () => {
        await this.pool.query(UPSERT, params);
      });
  }
}

/**
 * Spawns `supervisors` persisted actors, then keeps `inFlight` answers going, each on an
 * actor nobody else is answering (the least recently answered), for the warm-up and the
 * measured window; an answer counts once its upsert has committed.
 */
export async function runNaiveLoop(options: NaiveLoopOptions): Promise<NaiveLoopResult> {
  const pool = new pg.Pool({ connectionString: options.url, max: NAIVE_POOL_MAX });
  pool.on('error', (error) => {
    console.error(`  (naive) idle pool client failed: ${error.message}`);
  });
  const actors = new Map<string, PersistedActor>();
  try {
    await pool.query(CREATE_TABLE);
    const idle = new IdleQueue(options.supervisors);
    const spawnStarted = performance.now();
    await runPool(options.supervisors, options.spawnConcurrency, async () => {
      const actor = new PersistedActor(pool);
      actors.set(actor.id, actor);
      await actor.start();
      idle.put(actor.id);
    });
    const spawnSeconds = (performance.now() - spawnStarted) / 1000;
    console.log(
      `  (naive) ${fmt(options.supervisors)} actors stored in ${fmt(spawnSeconds, 1)} s; ` +
        `${options.inFlight} answers in flight: ${options.warmupSeconds} s warm-up, then ${options.seconds} s measured`,
    );

    const latencies: number[] = [];
    let measuring = false;
    let stopping = false;
    let measured = 0;
    let acknowledged = 0;
    let errors = 0;
    let sinceTick = 0;

    const worker = async (): Promise<void> => {
      while (!stopping) {
        const id = idle.take();
        const actor = actors.get(id) as PersistedActor;
        try {
          const questionId = actor.pendingQuestionId();
          if (!questionId) throw new Error(`actor ${id} asks no question`);
          const started = performance.now();
          await actor.answer(questionId);
          const latency = performance.now() - started;
          acknowledged++;
          sinceTick++;
          if (measuring) {
            measured++;
            latencies.push(latency);
          }
        } catch (error) {
          errors++;
          if (errors <= 5) console.error(`  (naive) answer failed: ${(error as Error).message}`);
          // Without a pause a persistent failure would spin this loop without yielding.
          await sleep(10);
        } finally {
          idle.put(id);
        }
      }
    };

    const workers = Array.from({ length: options.inFlight }, worker);
    await sleep(options.warmupSeconds * 1000);
    const cpuBefore = await readCpu(pool);
    const windowStart = performance.now();
    measuring = true;
    sinceTick = 0;
    const ticker = setInterval(() => {
      const elapsed = (performance.now() - windowStart) / 1000;
      console.log(`  (naive) t=${fmt(elapsed, 0)} s: ${fmt(sinceTick)} answers/s`);
      sinceTick = 0;
    }, 1000);
    await sleep(options.seconds * 1000);
    measuring = false;
    const windowSeconds = (performance.now() - windowStart) / 1000;
    clearInterval(ticker);
    const cpu = cpuPerUnit(cpuBefore, await readCpu(pool), measured, windowSeconds);
    stopping = true;
    await Promise.all(workers);

    // Each row starts at version 1 and gains one per committed answer.
    const { rows } = await pool.query<{ answers: string; supervisors: string }>(
      'SELECT sum(version) - count(*) AS answers, count(*) AS supervisors FROM naive_supervisors',
    );
    const stored = Number(rows[0]?.answers ?? 0);
    const check =
      stored === acknowledged && Number(rows[0]?.supervisors) === options.supervisors
        ? `ok (${fmt(acknowledged)} answers acknowledged, ${fmt(stored)} in the rows' versions)`
        : `MISMATCH: ${fmt(acknowledged)} acknowledged, ${fmt(stored)} in the rows' versions`;

    const sorted = Float64Array.from(latencies).sort();
    return {
      answersPerSecond: measured / windowSeconds,
      answers: measured,
      seconds: windowSeconds,
      p50: quantile(sorted, 0.5),
      p90: quantile(sorted, 0.9),
      p99: quantile(sorted, 0.99),
      max: sorted.length ? (sorted[sorted.length - 1] as number) : Number.NaN,
      errors,
      spawnSeconds,
      cpu,
      check,
    };
  } finally {
    for (const actor of actors.values()) actor.stop();
    await pool.end();
  }
}
