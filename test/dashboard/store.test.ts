// The page's model of the fleet, run in Node: it uses nothing from the DOM but EventTarget.
import { beforeAll, describe, expect, it } from 'vitest';

interface View {
  title: string | null;
  stateEnteredAt: string;
  updatedAt: string;
  state: string;
  stateValue: string;
  version: number;
  lastHeartbeat: string | null;
  restorationCount: number;
}
interface Store {
  events: EventTarget;
  loadRows(rows: unknown[]): void;
  applyFrame(frame: unknown): boolean;
  view(id: string): View | undefined;
  pendingQuestions(id: string): { id: string }[];
  beginResync(): void;
  endResync(): void;
}

// A path in a variable: the browser module has no types for the compiler to check.
const STORE_MODULE = '../../src/server/dashboard/public/store.js';
let createStore: () => Store;
beforeAll(async () => {
  ({ createStore } = (await import(STORE_MODULE)) as { createStore: () => Store });
});

const ID = '00000000-0000-4000-8000-000000000001';

function row(version: number, overrides: Record<string, unknown> = {}) {
  return {
    id: ID,
    machineId: 'reference',
    machineVersion: 1,
    owner: 'alice',
    state: 'waiting_for_user',
    stateValue: 'active.awaitingApproval',
    phase: 'plan',
    currentActivity: 'waiting',
    progress: 10,
    version,
    errorMessage: null,
    lastHeartbeat: null,
    restorationCount: 0,
    stateEnteredAt: '2026-01-01T00:00:00.000Z',
    pendingQuestions: [
      {
        id: 'approve-plan',
        prompt: 'ok?',
        answer: { kind: 'confirm' },
        askedAt: '2025-12-31T00:00:00.000Z',
      },
    ],
    ...overrides,
  };
}

const status = (version: number, state: string, stateValue: string) => ({
  type: 'supervisor.status',
  supervisorId: ID,
  version,
  state,
  stateValue,
  phase: 'execute',
  activity: 'running',
  progress: 20,
});

const asked = (version: number, questionId: string) => ({
  type: 'question.asked',
  supervisorId: ID,
  version,
  questionId,
  prompt: `${questionId}?`,
  answer: { kind: 'confirm' },
  audience: { kind: 'owner' },
  askedAt: '2026-01-01T00:00:00.000Z',
  deadline: null,
  deliveryCount: 1,
});

describe('dashboard store', () => {
  it('drops a frame older than the newest version shown, and keeps equal ones', () => {
    const store = createStore();
    store.loadRows([row(3)]);
    expect(store.applyFrame(status(5, 'waiting_for_tasks', 'active.executing.running'))).toBe(true);
    expect(store.applyFrame(status(4, 'paused', 'paused'))).toBe(false);
    expect(store.view(ID)).toMatchObject({ state: 'waiting_for_tasks', version: 5 });
    expect(
      store.applyFrame({
        type: 'question.resolved',
        supervisorId: ID,
        version: 5,
        questionId: 'approve-plan',
        resolution: 'answered',
      }),
    ).toBe(true);
    expect(store.pendingQuestions(ID)).toEqual([]);
    expect(store.applyFrame(asked(4, 'approve-plan'))).toBe(false);
    expect(store.pendingQuestions(ID)).toEqual([]);
  });

  it("names a supervisor by its context's title, else its goal, and restarts its state clock on a new state", () => {
    const store = createStore();
    store.loadRows([row(3, { snapshot: { context: { goal: 'ship it' } } })]);
    expect(store.view(ID)?.title).toBe('ship it');
    store.loadRows([row(4, { snapshot: { context: { title: 'Ship', goal: 'ship it' } } })]);
    expect(store.view(ID)?.title).toBe('Ship');
    store.loadRows([row(5, { snapshot: { context: { title: '  ' } } })]);
    expect(store.view(ID)?.title).toBeNull();

    const before = Date.now();
    store.applyFrame(status(6, 'waiting_for_user', 'active.awaitingApproval'));
    expect(store.view(ID)?.stateEnteredAt).toBe('2026-01-01T00:00:00.000Z');
    expect(Date.parse(store.view(ID)?.updatedAt ?? '')).toBeGreaterThanOrEqual(before);
    store.applyFrame(status(7, 'waiting_for_tasks', 'active.executing.running'));
    expect(Date.parse(store.view(ID)?.stateEnteredAt ?? '')).toBeGreaterThanOrEqual(before);
  });

  it('keeps the fields of newer frames when an older row arrives, and takes the rest', () => {
    const store = createStore();
    store.applyFrame(status(7, 'waiting_for_tasks', 'active.executing.running'));
    store.loadRows([row(6, { lastHeartbeat: '2026-01-01T00:01:00.000Z', restorationCount: 2 })]);
    expect(store.view(ID)).toMatchObject({
      state: 'waiting_for_tasks',
      stateValue: 'active.executing.running',
      version: 7,
      lastHeartbeat: '2026-01-01T00:01:00.000Z',
      restorationCount: 2,
    });
    store.loadRows([row(8, { state: 'paused', stateValue: 'paused', pendingQuestions: [] })]);
    expect(store.view(ID)).toMatchObject({ state: 'paused', version: 8 });
  });

  it('announces changes, and a frame about a supervisor it has no row for', () => {
    const store = createStore();
    const seen: string[] = [];
    store.events.addEventListener('unknown', () => seen.push('unknown'));
    store.events.addEventListener('change', () => seen.push('change'));
    store.applyFrame(asked(1, 'approve-plan'));
    store.loadRows([row(1)]);
    // Same version again: nothing new, so no change (a view reloading on change stops).
    store.loadRows([row(1)]);
    expect(seen).toEqual(['unknown', 'change', 'change']);
  });

  it('forgets, after a resubscription, the questions the server did not send again', () => {
    const store = createStore();
    store.loadRows([row(2)]);
    store.applyFrame(asked(3, 'second'));
    expect(store.pendingQuestions(ID).map((q) => q.id)).toEqual(['approve-plan', 'second']);
    store.beginResync();
    store.applyFrame(asked(5, 'second'));
    store.endResync();
    expect(store.pendingQuestions(ID).map((q) => q.id)).toEqual(['second']);
  });

  it("takes a supervisor's title from its snapshot's context, and keeps it through frames", () => {
    const store = createStore();
    store.loadRows([row(1, { snapshot: { context: { title: 'ship it' } } })]);
    store.applyFrame(status(2, 'working', 'active.executing'));
    expect(store.view(ID)?.title).toBe('ship it');
    const untitled = createStore();
    untitled.loadRows([row(1, { snapshot: { context: {} } })]);
    expect(untitled.view(ID)?.title).toBeNull();
  });
});
