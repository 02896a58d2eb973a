import { describe, expect, it } from 'vitest';
import { referenceSupervisor } from '../../src/machines/referenceSupervisor.ts';
import { type GraphTransition, toGraph, toJson } from '../../src/visualizer/graph.ts';
import { kitchenSink } from './fixtures.ts';

const graph = toGraph(kitchenSink);
const node = (id: string) => {
  const found = graph.nodes.find((n) => n.id === id);
  if (!found) throw new Error(`no node ${id}`);
  return found;
};
const transitions = (source: string, label?: string): GraphTransition[] =>
  graph.transitions.filter(
    (t) => t.source === source && (label === undefined || t.label === label),
  );

describe('toGraph', () => {
  it('lists every state node depth first, in declaration order', () => {
    expect(graph.nodes.map((n) => n.id)).toEqual([
      'sink',
      'sink.idle',
      'sink.loading',
      'sink.work',
      'sink.work.left',
      'sink.work.left.a',
      'sink.work.left.b',
      'sink.work.left.hist',
      'sink.work.right',
      'sink.work.right.c',
      'sink.work.right.c.c1',
      'sink.work.right.c.c2',
      'sink.work.right.d',
      'sink.work.right.deep',
      'sink.paused',
      'sink.done',
      'sink.failed',
    ]);
    expect(graph.root).toBe('sink');
    expect(graph.machineId).toBe('sink');
    expect(node('sink.work.right.c.c1')).toMatchObject({
      key: 'c1',
      path: ['work', 'right', 'c', 'c1'],
      parent: 'sink.work.right.c',
    });
    expect(node('sink').parent).toBeNull();
    expect(node('sink.work').children).toEqual(['sink.work.left', 'sink.work.right']);
  });

  it('gives each node its type, initial child and history kind', () => {
    expect(node('sink').type).toBe('compound');
    expect(node('sink').initial).toBe('sink.idle');
    expect(node('sink.work').type).toBe('parallel');
    expect(node('sink.work').initial).toBeUndefined();
    expect(node('sink.work.right.c').initial).toBe('sink.work.right.c.c1');
    expect(node('sink.work.left.a').type).toBe('atomic');
    expect(node('sink.done').type).toBe('final');
    expect(node('sink.work.right.d').type).toBe('final');
    expect(node('sink.work.left.hist')).toMatchObject({ type: 'history', history: 'shallow' });
    expect(node('sink.work.left.hist').historyTarget).toBeUndefined();
    expect(node('sink.work.right.deep')).toMatchObject({
      type: 'history',
      history: 'deep',
      historyTarget: ['sink.work.right.d'],
    });
  });

  it('keeps the lifecycle tag apart from the other tags', () => {
    expect(node('sink.idle')).toMatchObject({ lifecycle: 'initializing', tags: ['quiet'] });
    expect(node('sink.work')).toMatchObject({ lifecycle: 'working', tags: [] });
    expect(node('sink.work.left.a').lifecycle).toBeUndefined();
  });

  it('names entry and exit actions, leaving out the timers xstate adds for after', () => {
    expect(node('sink.idle').entry).toEqual(['log', 'spawnChild']);
    expect(node('sink.idle').exit).toEqual(['log']);
    expect(node('sink.loading').entry).toEqual([]);
  });

  it('lists invoked and spawned actors with their sources', () => {
    expect(node('sink.loading').invokes).toEqual([{ id: 'fetch', src: 'fetchData' }]);
    expect(node('sink.idle').spawns).toEqual([{ id: 'tick', src: 'ticker' }]);
    const [inline] = node('sink.paused').invokes;
    expect(inline?.src).toBe('inline');
  });

  it('labels named, composed, inline and stateIn guards readably', () => {
    expect(transitions('sink.idle', 'START').map((t) => t.guard)).toEqual([
      'isReady and not isBlocked',
      'isAdmin or (isReady and isBlocked)',
      'guard',
    ]);
    expect(transitions('sink.idle', 'PEEK')[0]?.guard).toBe('in(#sink.work.left.a)');
    expect(transitions('sink.idle', 'SPLIT')[0]?.guard).toBeUndefined();
  });

  it('labels delayed transitions with their delay, numeric or named', () => {
    const [numeric] = transitions('sink.idle', 'after 1000ms');
    expect(numeric).toMatchObject({ kind: 'after', delay: 1000, targets: ['sink.loading'] });
    expect(numeric?.event).toMatch(/^xstate\.after\.1000\./);
    const [named] = transitions('sink.idle', 'after retryDelay (250ms)');
    expect(named).toMatchObject({
      kind: 'after',
      delay: 'retryDelay',
      guard: 'isReady',
      targets: ['sink.work'],
    });
  });

  it('labels eventless transitions always', () => {
    expect(transitions('sink.loading', 'always')).toEqual([
      expect.objectContaining({
        event: '',
        kind: 'always',
        guard: 'isBlocked',
        targets: ['sink.failed'],
      }),
    ]);
  });

  it('labels the done and error transitions of an invocation by its id', () => {
    expect(transitions('sink.loading', 'done: fetch')).toEqual([
      expect.objectContaining({
        kind: 'done',
        event: 'xstate.done.actor.fetch',
        targets: ['sink.work'],
      }),
    ]);
    expect(transitions('sink.loading', 'error: fetch')).toEqual([
      expect.objectContaining({ kind: 'error', guard: 'not isAdmin', targets: ['sink.failed'] }),
    ]);
    expect(transitions('sink.work', 'done')).toEqual([
      expect.objectContaining({ event: 'xstate.done.state.sink.work', targets: ['sink.done'] }),
    ]);
  });

  it('keeps every target of a multi-target transition', () => {
    expect(transitions('sink.idle', 'SPLIT')[0]?.targets).toEqual([
      'sink.work.left.b',
      'sink.work.right.d',
    ]);
  });

  it('marks targetless and re-entering transitions', () => {
    expect(transitions('sink.idle', 'PING')[0]).toMatchObject({ targets: [], actions: ['log'] });
    expect(transitions('sink.idle', 'AGAIN')[0]).toMatchObject({ reenter: true });
    expect(transitions('sink.idle', 'PAUSE')).toEqual([]);
    expect(transitions('sink.work', 'PAUSE')[0]).toMatchObject({ reenter: false });
    expect(transitions('sink', 'RESET')[0]?.targets).toEqual(['sink.idle']);
  });

  it('resolves transitions into history states', () => {
    expect(transitions('sink.paused', 'RESUME')[0]?.targets).toEqual(['sink.work.left.hist']);
    expect(transitions('sink.paused', 'RESUME_DEEP')[0]?.targets).toEqual(['sink.work.right.deep']);
  });

  it('numbers transitions in graph order', () => {
    expect(graph.transitions.map((t) => t.id)).toEqual(graph.transitions.map((_, i) => `t${i}`));
  });

  it('gives the same JSON for the same machine, and JSON that reads back as the graph', () => {
    const json = toJson(toGraph(kitchenSink));
    expect(json).toBe(toJson(toGraph(kitchenSink)));
    expect(JSON.parse(json)).toEqual(graph);
    expect(json.endsWith('}\n')).toBe(true);
  });

  it('reads the reference supervisor with one lifecycle tag on each leaf', () => {
    const reference = toGraph(referenceSupervisor);
    const leaves = reference.nodes.filter((n) => n.children.length === 0 && n.type !== 'history');
    expect(leaves.map((n) => [n.key, n.lifecycle])).toEqual([
      ['planning', 'initializing'],
      ['awaitingApproval', 'waiting_for_user'],
      ['running', 'waiting_for_tasks'],
      ['decidingFailure', 'waiting_for_user'],
      ['reviewing', 'waiting_for_user'],
      ['paused', 'paused'],
      ['completed', 'completed'],
      ['failed', 'failed'],
      ['cancelled', 'cancelled'],
    ]);
    const resume = reference.transitions.find((t) => t.label === 'supervisor.resume');
    expect(resume?.targets).toEqual(['reference.active.history']);
  });
});
