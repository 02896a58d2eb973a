import { describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import { referenceSupervisor } from '../../src/machines/referenceSupervisor.ts';
import { toGraph } from '../../src/visualizer/graph.ts';
import { toMermaid } from '../../src/visualizer/mermaid.ts';
import { door, kitchenSink } from './fixtures.ts';

describe('toMermaid', () => {
  it('writes a small machine as this exact state diagram', () => {
    expect(toMermaid(toGraph(door))).toBe(`stateDiagram-v2
  state "closed" as closed
  state "opened" as opened {
    state "wide" as opened_wide
    state "ajar" as opened_ajar
    state "H" as opened_hist
    [*] --> opened_wide
  }
  state "stuck" as stuck {
    state "hinge" as stuck_hinge
    --
    state "say #quot;hi#quot;#59; #35;1" as stuck_say__hi____1
  }
  state "end" as s_end
  [*] --> closed
  s_end --> [*]
  closed --> opened: OPEN [unlocked]
  opened --> closed: CLOSE
  opened --> s_end: SLAM
  opened_wide --> opened_ajar: after 500ms
  closed : KNOCK
  classDef working fill:#dbeafe,stroke:#1d4ed8,color:#111827
  class opened working
  classDef waiting_for_user fill:#fef3c7,stroke:#b45309,color:#111827
  class closed waiting_for_user
  classDef completed fill:#dcfce7,stroke:#15803d,color:#111827
  class s_end completed
  classDef failed fill:#fee2e2,stroke:#b91c1c,color:#111827
  class stuck failed
`);
  });

  it('draws the root transitions from every top-level state that is not final', () => {
    const text = toMermaid(toGraph(referenceSupervisor));
    expect(text).toContain('  active --> failed: task.escalated\n');
    expect(text).toContain('  paused --> failed: task.escalated\n');
    expect(text).not.toContain('completed --> failed');
    // Targetless root transitions: a note beside the composite, lines inside the atomic state.
    expect(text).toContain('  note right of active\n    task.started [taskOutstanding]\n');
    expect(text).toContain('  paused : task.started [taskOutstanding]\n');
  });

  it('shows history states as H and H*, and final states nested in their parent', () => {
    const text = toMermaid(toGraph(kitchenSink));
    expect(text).toContain('state "H" as work_left_hist');
    expect(text).toContain('state "H*" as work_right_deep');
    expect(text).toContain('      work_right_d --> [*]\n');
    expect(text).toContain('  work_right_deep --> work_right_d\n');
    expect(text).toContain('  idle --> work_left_b: SPLIT\n  idle --> work_right_d: SPLIT\n');
    expect(text).toContain('  loading --> failed: error#58; fetch [not isAdmin]\n');
  });

  it('gives colliding and hostile keys distinct, valid ids', () => {
    const machine = createMachine({
      id: 'm',
      initial: 'a_b',
      states: {
        a_b: { on: { GO: 'a' } },
        a: { initial: 'b', states: { b: {} } },
        '9 lives': {},
        state: {},
      },
    });
    const text = toMermaid(toGraph(machine));
    expect(text).toContain('state "a_b" as a_b\n');
    expect(text).toContain('state "b" as a_b_2\n');
    expect(text).toContain('state "9 lives" as s_9_lives\n');
    expect(text).toContain('state "state" as s_state\n');
    expect(text).toContain('a_b --> a: GO');
  });

  it('declares every state before the first transition', () => {
    const lines = toMermaid(toGraph(referenceSupervisor)).split('\n');
    const lastDeclaration = lines.findLastIndex((l) => /^\s*state "/.test(l));
    const firstArrow = lines.findIndex((l) => /^ {2}\S+ --> \S+: /.test(l));
    expect(lastDeclaration).toBeGreaterThan(0);
    expect(firstArrow).toBeGreaterThan(lastDeclaration);
  });
});
