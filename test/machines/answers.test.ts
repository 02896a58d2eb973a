import { describe, expect, it } from 'vitest';
import { type AnswerCheck, validateAnswer } from '../../src/machines/answers.ts';
import type { AnswerKind, PendingQuestion } from '../../src/model/supervisor.ts';

function question(answer: AnswerKind): PendingQuestion {
  return {
    id: 'q-1',
    prompt: 'What now?',
    answer,
    audience: { kind: 'owner' },
    askedAt: '2026-01-01T00:00:00.000Z',
  };
}

/** Asserts a refusal that carries zod's issues (code, path, message) and returns them. */
function issuesOf(check: AnswerCheck) {
  expect(check.ok).toBe(false);
  if (check.ok) throw new Error('expected a refusal');
  expect(check.issues.length).toBeGreaterThan(0);
  for (const issue of check.issues) {
    expect(issue).toEqual(
      expect.objectContaining({
        code: expect.any(String),
        path: expect.any(Array),
        message: expect.any(String),
      }),
    );
  }
  return check.issues;
}

describe('validateAnswer', () => {
  it('accepts any string for a text question and refuses a non-string', () => {
    const q = question({ kind: 'text' });
    expect(validateAnswer(q, 'anything at all')).toEqual({ ok: true, value: 'anything at all' });
    expect(validateAnswer(q, '')).toEqual({ ok: true, value: '' });
    expect(issuesOf(validateAnswer(q, 42))[0]?.code).toBe('invalid_type');
  });

  it('refuses text longer than maxLength', () => {
    const q = question({ kind: 'text', maxLength: 5 });
    expect(validateAnswer(q, 'fives')).toEqual({ ok: true, value: 'fives' });
    expect(issuesOf(validateAnswer(q, 'sixsix'))[0]?.code).toBe('too_big');
  });

  it('accepts one of the options of a choice question and refuses anything else', () => {
    const q = question({ kind: 'choice', options: ['retry', 'skip', 'abort'] });
    expect(validateAnswer(q, 'skip')).toEqual({ ok: true, value: 'skip' });
    expect(issuesOf(validateAnswer(q, 'later'))[0]?.code).toBe('invalid_value');
    issuesOf(validateAnswer(q, 'Retry'));
    issuesOf(validateAnswer(q, ['retry']));
  });

  it('accepts only a boolean for a confirm question', () => {
    const q = question({ kind: 'confirm' });
    expect(validateAnswer(q, true)).toEqual({ ok: true, value: true });
    expect(validateAnswer(q, false)).toEqual({ ok: true, value: false });
    expect(issuesOf(validateAnswer(q, 'yes'))[0]?.code).toBe('invalid_type');
    issuesOf(validateAnswer(q, 1));
    issuesOf(validateAnswer(q, null));
  });

  it('checks a number against min, max and integer', () => {
    const q = question({ kind: 'number', min: 1, max: 10, integer: true });
    expect(validateAnswer(q, 1)).toEqual({ ok: true, value: 1 });
    expect(validateAnswer(q, 10)).toEqual({ ok: true, value: 10 });
    expect(issuesOf(validateAnswer(q, 0))[0]?.code).toBe('too_small');
    expect(issuesOf(validateAnswer(q, 11))[0]?.code).toBe('too_big');
    issuesOf(validateAnswer(q, 2.5));
    expect(issuesOf(validateAnswer(q, '3'))[0]?.code).toBe('invalid_type');
  });

  it('accepts any finite number, fractions included, when the question sets no bounds', () => {
    const q = question({ kind: 'number' });
    expect(validateAnswer(q, -2.5)).toEqual({ ok: true, value: -2.5 });
    issuesOf(validateAnswer(q, Number.NaN));
  });

  it('checks a json answer against the JSON schema, required properties included', () => {
    const q = question({
      kind: 'json',
      schema: {
        type: 'object',
        properties: { name: { type: 'string' }, count: { type: 'integer', minimum: 0 } },
        required: ['name'],
      },
    });
    expect(validateAnswer(q, { name: 'x', count: 2 })).toEqual({
      ok: true,
      value: { name: 'x', count: 2 },
    });
    const missing = issuesOf(validateAnswer(q, { count: 2 }));
    expect(missing.some((issue) => issue.path.join('.') === 'name')).toBe(true);
    const wrongType = issuesOf(validateAnswer(q, { name: 'x', count: -1 }));
    expect(wrongType.some((issue) => issue.path.join('.') === 'count')).toBe(true);
    issuesOf(validateAnswer(q, 'not an object'));
  });
});
