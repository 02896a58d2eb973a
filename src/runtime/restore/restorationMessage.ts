import type { SupervisorContext } from '../../machines/context.ts';
import type { RestorationSource, SupervisorState } from '../../model/supervisor.ts';
import type { JournalEvent } from '../../model/task.ts';
import type { Plan } from './restorePlan.ts';

/** The tasks of a context: which are still waiting, and a one-line summary. */
export function describeTasks(context: Partial<SupervisorContext>): {
  waiting: string[];
  summary: string;
  total: number;
} {
  const entries = Object.entries(context.tasks ?? {});
  const waiting = entries
    .filter(([, t]) => t.status === 'pending' || t.status === 'running')
    .map(([id]) => id);
  const counts = new Map<string, number>();
  for (const [, t] of entries) counts.set(t.status, (counts.get(t.status) ?? 0) + 1);
  const summary =
    entries.length === 0
      ? 'no tasks'
      : `${entries.length} tasks (${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')})`;
  return { waiting, summary, total: entries.length };
}

/** A readable account of where a restored supervisor stands, for a person or an LLM. */
export function restorationMessage(input: {
  stored: SupervisorState;
  stateValue: unknown;
  context: Partial<SupervisorContext>;
  source: RestorationSource;
  restorationCount: number;
  from: Plan['from'];
  /** Put back to work after it finished (a retry), not restored after a loss. */
  retried?: boolean;
  checkpointVersion: number | null;
  tasks: string;
  history: readonly JournalEvent[];
  now: number;
}): string {
  const { stored, context } = input;
  const since = stored.lastHeartbeat ?? stored.updatedAt;
  const seconds = Math.max(0, Math.round((input.now - since.getTime()) / 1000));
  const questions = context.pendingQuestions ?? [];
  const lines = [
    `Supervisor ${stored.id} (${stored.machineId} v${stored.machineVersion}) was restored after a ${input.source}` +
      ` (restoration ${input.restorationCount}); it was last seen ${seconds} s ago.`,
    input.retried
      ? `It was retried after it was ${stored.state}: ${input.from === 'checkpoint' ? `it resumes from the checkpoint of version ${input.checkpointVersion}` : 'it starts afresh from its input'}.`
      : input.from === 'stored'
        ? 'Its last saved state was valid and is resumed as it was.'
        : input.from === 'checkpoint'
          ? `Its last saved state was not valid; it resumes from the checkpoint of version ${input.checkpointVersion}.`
          : 'Neither its last saved state nor any checkpoint was valid; it starts afresh.',
    `State: ${JSON.stringify(input.stateValue)}; phase: ${context.phase ?? 'none'}; activity: ${context.activity ?? 'none'}; progress: ${context.progress ?? 0} %.`,
    questions.length === 0
      ? 'No question is pending.'
      : `Pending questions (asked again): ${questions.map((q) => `${q.id} — ${q.prompt}`).join('; ')}.`,
    `Tasks: ${input.tasks}.`,
    ...(input.history.length === 0
      ? []
      : [
          'Recent history:',
          ...input.history.map(
            (e) => `- v${e.version ?? '?'} ${e.kind} ${JSON.stringify(e.payload).slice(0, 160)}`,
          ),
        ]),
  ];
  return lines.join('\n');
}
