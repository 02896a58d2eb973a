// The Questions page's rules of order, filtering, grouping and time words, run in Node:
// the modules use nothing from the DOM.
import { beforeAll, describe, expect, it } from 'vitest';

interface Question {
  id: string;
  prompt: string;
  answer: { kind: string };
  audience: { kind: 'owner' } | { kind: 'role'; role: string };
  askedAt: string;
  deadline?: string | null;
  remindAt?: string | null;
  escalation?: { at: string } | null;
  reminded?: boolean;
  escalated?: boolean;
}
interface Entry {
  key?: string;
  supervisorId: string;
  question: Question;
  view?: { machineId: string; owner: string | null; title?: string | null };
}
interface OrderModule {
  byUrgency(a: Entry, b: Entry): number;
  matchesFilters(entry: Entry, filters: Record<string, string>): boolean;
  filterChoices(entries: Entry[]): Record<string, string[]>;
  identicalGroups(entries: Entry[]): { machineId: string; prompt: string; entries: Entry[] }[];
  titleOf(supervisorId: string, view?: Entry['view']): string;
}
interface TimesModule {
  followUps(question: Question, now: number): { kind: string; text: string; due: boolean }[];
  askedWords(question: Question, now: number): string;
}

// Paths in variables: the browser modules have no types for the compiler to check.
const ORDER_MODULE = '../../src/server/dashboard/public/inboxOrder.js';
const TIMES_MODULE = '../../src/server/dashboard/public/questionTimes.js';
let order: OrderModule;
let times: TimesModule;
beforeAll(async () => {
  order = (await import(ORDER_MODULE)) as OrderModule;
  times = (await import(TIMES_MODULE)) as TimesModule;
});

const NOW = Date.parse('2026-05-01T09:00:00.000Z');
const at = (minutes: number) => new Date(NOW + minutes * 60_000).toISOString();

function entry(id: string, fields: Partial<Question> = {}, view?: Entry['view']): Entry {
  return {
    supervisorId: id,
    question: {
      id: 'q',
      prompt: 'Accept?',
      answer: { kind: 'confirm' },
      audience: { kind: 'owner' },
      askedAt: at(-10),
      ...fields,
    },
    ...(view ? { view } : {}),
  };
}

describe('the inbox order', () => {
  it('puts the soonest deadline first, then questions without one, oldest first', () => {
    const entries = [
      entry('newest', { askedAt: at(-1) }),
      entry('later deadline', { deadline: at(30), askedAt: at(-1) }),
      entry('oldest', { askedAt: at(-60) }),
      entry('sooner deadline', { deadline: at(5), askedAt: at(-2) }),
    ];
    expect(entries.sort(order.byUrgency).map((e) => e.supervisorId)).toEqual([
      'sooner deadline',
      'later deadline',
      'oldest',
      'newest',
    ]);
  });

  it('filters by machine, owner and audience; an empty filter lets everything through', () => {
    const ops = entry(
      'a',
      { audience: { kind: 'role', role: 'ops' } },
      {
        machineId: 'survey',
        owner: 'bob',
      },
    );
    expect(order.matchesFilters(ops, { machine: '', owner: '', audience: '' })).toBe(true);
    expect(
      order.matchesFilters(ops, { machine: 'survey', owner: 'bob', audience: 'role:ops' }),
    ).toBe(true);
    expect(order.matchesFilters(ops, { machine: 'reference', owner: '', audience: '' })).toBe(
      false,
    );
    expect(order.matchesFilters(ops, { machine: '', owner: '', audience: 'owner' })).toBe(false);
    // Not known yet: it cannot be said to be from that machine.
    expect(order.matchesFilters(entry('b'), { machine: 'survey', owner: '', audience: '' })).toBe(
      false,
    );
    expect(order.filterChoices([ops, entry('b')])).toEqual({
      machine: ['survey'],
      owner: ['bob'],
      audience: ['owner', 'role:ops'],
    });
  });

  it('groups confirm questions with the same prompt from the same machine, two or more', () => {
    const reference = { machineId: 'reference', owner: 'alice' };
    const groups = order.identicalGroups([
      entry('a', {}, reference),
      entry('b', {}, reference),
      entry('c', { prompt: 'Another?' }, reference),
      entry('d', {}, { machineId: 'survey', owner: 'alice' }),
      entry('e', { answer: { kind: 'text' } }, reference),
      entry('f', {}),
    ]);
    expect(groups).toHaveLength(1);
    expect(groups[0]?.entries.map((e) => e.supervisorId)).toEqual(['a', 'b']);
  });

  it('names a supervisor by its title, else by its machine and the start of its id', () => {
    const id = '0123456789abcdef';
    expect(order.titleOf(id, { machineId: 'reference', owner: null, title: 'ship it' })).toBe(
      'ship it',
    );
    expect(order.titleOf(id, { machineId: 'reference', owner: null, title: null })).toBe(
      'reference 01234567',
    );
    expect(order.titleOf(id)).toBe('Supervisor 01234567');
  });
});

describe('question times in words', () => {
  it('says how long ago a question was asked and when its deadline, reminder and escalation come', () => {
    const question = entry('a', {
      deadline: at(4.5),
      remindAt: at(-1),
      escalation: { at: at(90) },
    }).question;
    expect(times.askedWords(question, NOW)).toBe('asked 10 min ago');
    expect(times.followUps(question, NOW)).toEqual([
      { kind: 'deadline', due: false, text: 'expires in 4 min' },
      { kind: 'reminder', due: true, text: 'reminder sent' },
      { kind: 'escalation', due: false, text: 'escalates in 1 h' },
    ]);
    expect(times.followUps({ ...question, deadline: at(-2) }, NOW)[0]?.text).toBe(
      'expired 2 min ago',
    );
  });

  it("takes a frame's reminder and escalation flags as come", () => {
    const question = entry('a', { reminded: true, escalated: true, remindAt: null }).question;
    expect(times.followUps(question, NOW).map((words) => words.text)).toEqual([
      'reminder sent',
      'escalated',
    ]);
  });
});
