import { fromPromise } from 'xstate';
import type { Logger } from './logger.ts';
import type { TaskRunInput } from './machines/registry.ts';
import {
  LIFECYCLE_STATES,
  type PendingQuestion,
  type SupervisorState,
  TERMINAL_STATES,
} from './model/supervisor.ts';
import type { CommittedChange } from './runtime/commit/committedChanges.ts';
import type { SupervisorHost } from './runtime/supervisorHost.ts';

/** The owner of the demo's supervisors: the demo counts, answers and replaces only these. */
export const DEMO_OWNER = 'demo-user';

/** Options of the demo that `steward serve` runs. */
export interface DemoOptions {
  host: SupervisorHost;
  log: Logger;
  /** How many of the demo's reference supervisors run at once (3). */
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

/** The demo's supervisors: the reference machine's, of the demo's owner, not finished. */
const OWN_UNFINISHED = {
  owner: DEMO_OWNER,
  machineId: 'reference',
  state: LIFECYCLE_STATES.filter((state) => !TERMINAL_STATES.includes(state)),
};
const PAGE = 1_000;

/**
 * Keeps `supervisors` reference supervisors of the demo's owner running so a new user sees
 * questions arrive: at start it counts the demo's unfinished supervisors already stored
 * (a restart finds them restored) and starts only the missing ones; when one of its own
 * finishes, it counts again and starts what is missing. Other supervisors are none of its
 * business: it neither replaces nor answers them. The steps are real tasks
 * (`demoStepTask`). Every question of its supervisors is logged (`question asked: …`),
 * those a restore asks again included: a restore re-sends them on the committed-changes
 * stream as `question.asked`, like new ones, so a restore after the demo started is heard
 * there; one that ran before is read from the stored rows. Returns `stop`.
 *
 * @example
 * const stop = startDemo({ host, log, answerDelayMs: 2_000 });
 */
export function startDemo(options: DemoOptions): () => void {
  const { host, log, answerDelayMs } = options;
  const wanted = options.supervisors ?? 3;
  const timers = new Set<NodeJS.Timeout>();
  // The asked-at time of each question in hand, by `supervisorId/questionId`: a question
  // read from a stored row and then re-sent by its restore is the same question.
  const inHand = new Map<string, string>();
  let stopped = false;
  let next = 0;
  let counting: Promise<void> = Promise.resolve();

  const warn = (error: unknown, message: string) => {
    // Once stopped, a call the stopping host refuses is expected, not news.
    if (!stopped) log.warn({ err: error }, message);
  };

  const later = (ms: number, work: () => Promise<unknown>) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (stopped) return;
      work().catch((error: unknown) => warn(error, 'demo step failed'));
    }, ms);
    timers.add(timer);
  };

  const unfinished = async (): Promise<SupervisorState[]> => {
    const found: SupervisorState[] = [];
    for (;;) {
      const afterId = found.at(-1)?.id;
      const page = await host.list({
        ...OWN_UNFINISHED,
        limit: PAGE,
        ...(afterId === undefined ? {} : { afterId }),
      });
      found.push(...page);
      if (page.length < PAGE) return found;
    }
  };

  const spawnOne = async () => {
    const plan = GOALS[next++ % GOALS.length] as (typeof GOALS)[number];
    const { id } = await host.spawn('reference', plan, { owner: DEMO_OWNER });
    log.info({ supervisorId: id, goal: plan.goal }, `demo supervisor started: ${plan.goal}`);
  };

  /**
   * Counts the demo's unfinished supervisors and starts the missing ones. One count at a
   * time: two supervisors finishing together must not both see the same gap and fill it.
   */
  const topUp = (atStart: boolean) => {
    counting = counting
      .then(async () => {
        if (stopped) return;
        const running = await unfinished();
        if (atStart) {
          for (const supervisor of running) {
            for (const question of supervisor.pendingQuestions) asked(supervisor.id, question);
          }
        }
        const starting = Math.max(0, wanted - running.length);
        log[atStart ? 'info' : 'debug'](
          { running: running.length, wanted, starting },
          'demo supervisors counted',
        );
        for (let n = 0; n < starting && !stopped; n++) await spawnOne();
      })
      .catch((error: unknown) => warn(error, 'demo supervisors not started'));
  };

  const answerFor = (questionId: string): unknown =>
    questionId.startsWith('task-failed-') ? 'retry' : true;

  const asked = (supervisorId: string, question: PendingQuestion) => {
    const key = `${supervisorId}/${question.id}`;
    if (inHand.get(key) === question.askedAt) return;
    inHand.set(key, question.askedAt);
    log.info(
      { supervisorId, questionId: question.id, answer: question.answer },
      `question asked: ${question.prompt}`,
    );
    if (answerDelayMs === undefined) return;
    later(answerDelayMs, async () => {
      const value = answerFor(question.id);
      try {
        await host.answer(supervisorId, question.id, value, { answeredBy: DEMO_OWNER });
      } catch (error) {
        // Not answered (the supervisor not running here yet, say): a restore that asks
        // again is then heard and answered.
        inHand.delete(key);
        throw error;
      }
      // Committed while the runtime stops: the demo has ended, and says nothing more.
      if (!stopped) {
        log.info({ supervisorId, questionId: question.id, value }, 'demo answer committed');
      }
    });
  };

  const onChange = (change: CommittedChange) => {
    if (change.owner !== DEMO_OWNER) return;
    if (change.type === 'question.asked') asked(change.supervisorId, change.question);
    if (change.type === 'question.resolved') {
      inHand.delete(`${change.supervisorId}/${change.questionId}`);
    }
    if (change.type === 'supervisor.finished') {
      log.info(
        { supervisorId: change.supervisorId, state: change.state },
        'demo supervisor finished',
      );
      later(answerDelayMs ?? 1_000, async () => topUp(false));
    }
  };

  const unsubscribe = host.subscribe(onChange);
  topUp(true);

  return () => {
    stopped = true;
    unsubscribe();
    for (const timer of timers) clearTimeout(timer);
  };
}
