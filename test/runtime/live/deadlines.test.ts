// The deadline timers of one supervisor alone (issue 15): which questions get a delayed
// event, which lose theirs, and how the wake-up is recognised. A bare actor, no database.
import { describe, expect, it } from 'vitest';
import { createActor, type InspectionEvent, setup } from 'xstate';
import { scheduledEvents } from '../../../src/machines/xstateInternals.ts';
import type { PendingQuestion } from '../../../src/model/supervisor.ts';
import {
  DEADLINE_EVENT,
  deadlineTimerId,
  isPastDeadline,
  QuestionDeadlines,
} from '../../../src/runtime/live/deadlines.ts';

const NOW = Date.parse('2026-01-01T00:00:00.000Z');

function question(id: string, deadlineInMs?: number): PendingQuestion {
  return {
    id,
    prompt: `${id}?`,
    answer: { kind: 'confirm' },
    audience: { kind: 'owner' },
    askedAt: new Date(NOW).toISOString(),
    ...(deadlineInMs === undefined ? {} : { deadline: new Date(NOW + deadlineInMs).toISOString() }),
  };
}

/** A root actor and the deadlines kept for it. */
function rig() {
  const events: InspectionEvent[] = [];
  const actor = createActor(setup({}).createMachine({ id: 'idle' }), {
    inspect: (event) => events.push(event),
  }).start();
  const armed = () =>
    scheduledEvents(actor)
      .map((s) => [s.id, s.event] as const)
      .sort(([a], [b]) => a.localeCompare(b));
  return { actor, deadlines: new QuestionDeadlines(actor), armed, events };
}

describe('QuestionDeadlines', () => {
  it('arms one delayed event per pending question with a deadline, due at the deadline', () => {
    const { actor, deadlines, armed } = rig();
    const before = Date.now();
    deadlines.sync([question('a', 60_000), question('b'), question('c', -5_000)], NOW);
    expect(armed()).toEqual([
      [deadlineTimerId('a'), { type: DEADLINE_EVENT, questionId: 'a' }],
      [deadlineTimerId('c'), { type: DEADLINE_EVENT, questionId: 'c' }],
    ]);
    const [a, c] = scheduledEvents(actor).sort((x, y) => x.id.localeCompare(y.id));
    expect(a?.dueAt).toBeGreaterThanOrEqual(before + 60_000);
    // An overdue deadline is due at once, never in the past's future.
    expect(c?.dueAt).toBeLessThanOrEqual(Date.now());
    actor.stop();
  });

  it('arms nothing twice and cancels the timers of questions no longer pending', () => {
    const { actor, deadlines, armed } = rig();
    deadlines.sync([question('a', 60_000), question('b', 60_000)], NOW);
    deadlines.sync([question('a', 60_000), question('b', 60_000)], NOW);
    expect(armed().map(([id]) => id)).toEqual([deadlineTimerId('a'), deadlineTimerId('b')]);
    deadlines.sync([question('b', 60_000)], NOW);
    expect(armed().map(([id]) => id)).toEqual([deadlineTimerId('b')]);
    actor.stop();
  });

  it('never arms again a question that expired here, handed over or waiting', () => {
    const { actor, deadlines, armed } = rig();
    const questions = [question('a', 60_000), question('b', 60_000)];
    deadlines.sync(questions, NOW);
    deadlines.hand('a');
    deadlines.wait('b');
    expect(armed()).toEqual([]);
    deadlines.sync(questions, NOW);
    expect(armed()).toEqual([]);
    expect([deadlines.isExpired('a'), deadlines.wasHanded('a')]).toEqual([true, true]);
    expect([deadlines.isExpired('b'), deadlines.wasHanded('b')]).toEqual([true, false]);
    expect(deadlines.waiting()).toEqual(['b']);
    expect([...deadlines.takeSinceCapture()]).toEqual(['a']);
    expect([...deadlines.takeSinceCapture()]).toEqual([]);
    actor.stop();
  });

  it('names the questions past their deadline whose expiry was not handed over yet', () => {
    const { actor, deadlines } = rig();
    const questions = [question('a', -1), question('b', 0), question('c', 1), question('d')];
    expect(deadlines.due(questions, NOW)).toEqual(['a', 'b']);
    deadlines.hand('a');
    expect(deadlines.due(questions, NOW)).toEqual(['b']);
    expect(deadlines.due(questions, NOW + 1)).toEqual(['b', 'c']);
    actor.stop();
  });

  it('counts a deadline as past from its very millisecond on', () => {
    const q = question('a', 0);
    expect(isPastDeadline(q, NOW - 1)).toBe(false);
    expect(isPastDeadline(q, NOW)).toBe(true);
    expect(isPastDeadline(question('b'), NOW + 1e12)).toBe(false);
  });
});
