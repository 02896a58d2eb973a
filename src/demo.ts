import { fromPromise } from 'xstate';
import type { Logger } from './logger.ts';
import type { TaskRunInput } from './machines/registry.ts';
import type { CommittedChange } from './runtime/committedChanges.ts';
import type { SupervisorHost } from './runtime/supervisorHost.ts';

/** Options of the demo that `steward serve` runs. */
export interface DemoOptions {
  host: SupervisorHost;
  log: Logger;
  /** How many reference supervisors run at once. */
  supervisors?: number;
  /**
   * Set: a stand-in person answers every demo question after this many milliseconds.
   * Unset: questions wait for a real client (the dashboard, the README's example).
   */
  answerDelayMs?: number;
}

/**
 * The demo's step task: takes a moment, and the second step of each run fails on its first
 * try, so the demo shows a failure question and a retry.
 */
export function demoStepTask(delayMs = 1_500) {
  const failed = new Set<string>();
  return fromPromise<{ done: string }, TaskRunInput<{ step: string }>>(
    async ({ input, signal }) => {
      await new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, delayMs);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(new Error('cancelled'));
        });
      });
      const key = `${input.supervisorId}/${input.input.step}`;
      const second = GOALS.some((g) => g.steps[1] === input.input.step);
      if (second && !failed.has(key)) {
        failed.add(key);
        throw new Error(`simulated failure of "${input.input.step}"`);
      }
      return { done: input.input.step };
    },
  );
}

const GOALS = [
  { goal: 'publish the quarterly report', steps: ['collect figures', 'draft', 'review charts'] },
  { goal: 'migrate the billing database', steps: ['snapshot', 'copy rows', 'verify counts'] },
  { goal: 'onboard the new team', steps: ['create accounts', 'order laptops'] },
];

/**
 * Runs reference supervisors so a new user sees questions arrive, and starts a new one
 * whenever one finishes. The steps are real tasks (`demoStepTask`). Returns `stop`.
 */
export function startDemo(options: DemoOptions): () => void {
  const { host, log } = options;
  const answerDelayMs = options.answerDelayMs;
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  let next = 0;

  const later = (ms: number, work: () => Promise<unknown>) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (stopped) return;
      work().catch((error: unknown) => log.warn({ err: error }, 'demo step failed'));
    }, ms);
    timers.add(timer);
  };

  const spawnOne = async () => {
    const plan = GOALS[next++ % GOALS.length] as (typeof GOALS)[number];
    const { id } = await host.spawn('reference', plan, { owner: 'demo-user' });
    log.info({ supervisorId: id, goal: plan.goal }, `demo supervisor started: ${plan.goal}`);
  };

  const answerFor = (questionId: string): unknown =>
    questionId.startsWith('task-failed-') ? 'retry' : true;

  const onChange = (change: CommittedChange) => {
    if (change.type === 'question.asked') {
      const { question, supervisorId } = change;
      log.info(
        { supervisorId, questionId: question.id, answer: question.answer },
        `question asked: ${question.prompt}`,
      );
      if (answerDelayMs === undefined) return;
      later(answerDelayMs, async () => {
        const value = answerFor(question.id);
        await host.answer(supervisorId, question.id, value, { answeredBy: 'demo-user' });
        log.info({ supervisorId, questionId: question.id, value }, 'demo answer committed');
      });
    }
    if (change.type === 'supervisor.finished') {
      log.info(
        { supervisorId: change.supervisorId, state: change.state },
        'demo supervisor finished',
      );
      later(answerDelayMs ?? 1_000, spawnOne);
    }
  };

  const unsubscribe = host.subscribe(onChange);
  for (let i = 0; i < (options.supervisors ?? 3); i++) {
    later(i * 500, spawnOne);
  }

  return () => {
    stopped = true;
    unsubscribe();
    for (const timer of timers) clearTimeout(timer);
  };
}
