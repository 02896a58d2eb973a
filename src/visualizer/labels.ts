// Readable names for what xstate keeps as internal objects: event types it generates,
// guard compositions and built-in actions. Only the graph extraction uses these.
import { and, not, or, stateIn } from 'xstate';

/** What kind of trigger a transition has, read from xstate's event type. */
export type TriggerKind = 'event' | 'always' | 'after' | 'done' | 'error' | 'snapshot';

/** A transition's trigger: its kind and the label a reader sees. */
export interface Trigger {
  kind: TriggerKind;
  label: string;
}

// xstate names the events it generates itself after the thing they belong to.
const GENERATED: ReadonlyArray<[prefix: string, kind: TriggerKind, label: string]> = [
  ['xstate.done.actor.', 'done', 'done: '],
  ['xstate.error.actor.', 'error', 'error: '],
  ['xstate.snapshot.', 'snapshot', 'snapshot: '],
];

/**
 * The trigger of a transition of `sourceId`. `delay` is what xstate resolved for an
 * `after` transition; `delays` are the machine's named delays, so a named delay can show
 * its duration too.
 */
export function triggerOf(
  eventType: string,
  sourceId: string,
  delay: unknown,
  delays: Readonly<Record<string, unknown>>,
): Trigger {
  if (eventType === '') return { kind: 'always', label: 'always' };
  if (eventType.startsWith('xstate.after.')) {
    return { kind: 'after', label: `after ${delayText(delay, delays)}` };
  }
  if (eventType === `xstate.done.state.${sourceId}`) return { kind: 'done', label: 'done' };
  if (eventType.startsWith('xstate.done.state.')) {
    return { kind: 'done', label: `done: ${eventType.slice('xstate.done.state.'.length)}` };
  }
  for (const [prefix, kind, label] of GENERATED) {
    if (eventType.startsWith(prefix)) {
      return { kind, label: `${label}${eventType.slice(prefix.length)}` };
    }
  }
  return { kind: 'event', label: eventType };
}

function delayText(delay: unknown, delays: Readonly<Record<string, unknown>>): string {
  if (typeof delay === 'number') return `${delay}ms`;
  if (typeof delay === 'string') {
    const named = delays[delay];
    return typeof named === 'number' ? `${delay} (${named}ms)` : delay;
  }
  return 'delay';
}

interface GuardFunction {
  (...args: never[]): unknown;
  check?: (...args: never[]) => unknown;
  guards?: unknown[];
  stateValue?: unknown;
}

// xstate marks its guard combinators by the `check` function they carry. Comparing by
// identity works for the xstate this module loaded; comparing by name also works for a
// machine built with another copy of xstate (a user's own node_modules).
const COMBINATORS = {
  and: (and([]) as unknown as GuardFunction).check,
  or: (or([]) as unknown as GuardFunction).check,
  not: (not('x') as unknown as GuardFunction).check,
  in: (stateIn('x') as unknown as GuardFunction).check,
};

function isCombinator(guard: GuardFunction, name: keyof typeof COMBINATORS): boolean {
  const reference = COMBINATORS[name];
  return guard.check === reference || (!!reference && guard.check?.name === reference.name);
}

/**
 * A guard as a reader would write it: a named guard by its name (parameters left out),
 * `and`/`or`/`not` spelled out with parentheses where needed, `in(#id)` for `stateIn`,
 * and `guard` for an inline function, which has no name worth showing.
 */
export function guardLabel(guard: unknown): string {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && guard !== null && 'type' in guard) {
    return String((guard as { type: unknown }).type);
  }
  if (typeof guard !== 'function') return 'guard';
  const fn = guard as GuardFunction;
  const parts = (fn.guards ?? []).map((g) => nestedGuardLabel(g));
  if (isCombinator(fn, 'and')) return parts.join(' and ');
  if (isCombinator(fn, 'or')) return parts.join(' or ');
  if (isCombinator(fn, 'not')) return `not ${parts[0] ?? 'guard'}`;
  if (isCombinator(fn, 'in')) return `in(${stateValueText(fn.stateValue)})`;
  return 'guard';
}

function nestedGuardLabel(guard: unknown): string {
  const label = guardLabel(guard);
  const composite =
    typeof guard === 'function' &&
    (isCombinator(guard as GuardFunction, 'and') || isCombinator(guard as GuardFunction, 'or'));
  return composite ? `(${label})` : label;
}

function stateValueText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

interface ActionObject {
  type?: unknown;
  id?: unknown;
  sendId?: unknown;
  src?: unknown;
}

/**
 * True for the raise/cancel pairs xstate adds to entry and exit to run `after` timers:
 * they are how delayed transitions work, not actions the author wrote.
 */
export function isTimerAction(action: unknown): boolean {
  if (typeof action !== 'function') return false;
  const { type, id, sendId } = action as ActionObject;
  const timerId = type === 'xstate.raise' ? id : type === 'xstate.cancel' ? sendId : undefined;
  return typeof timerId === 'string' && timerId.startsWith('xstate.after.');
}

// An inline function takes the name of the property it was written in; that says nothing.
const MEANINGLESS_NAMES = new Set(['', 'entry', 'exit', 'actions', 'action']);

/**
 * The name of an action: a named action's name, a built-in's name without xstate's
 * prefix (`assign`, `raise`, `spawnChild`), a named function's name, else `action`.
 */
export function actionName(action: unknown): string {
  if (typeof action === 'string') return action;
  if (typeof action === 'object' && action !== null && 'type' in action) {
    return String((action as ActionObject).type);
  }
  if (typeof action !== 'function') return 'action';
  const type = (action as ActionObject).type;
  if (typeof type === 'string') return type.replace(/^xstate\./, '');
  return MEANINGLESS_NAMES.has(action.name) ? 'action' : action.name;
}

/** The child a `spawnChild(...)` action starts, or undefined for any other action. */
export function spawnedBy(action: unknown): { id: string; src: string } | undefined {
  if (typeof action !== 'function') return undefined;
  const { type, id, src } = action as ActionObject;
  if (type !== 'xstate.spawnChild') return undefined;
  const shownId =
    typeof id === 'string' ? id : typeof id === 'function' ? '(dynamic)' : '(generated)';
  return { id: shownId, src: sourceName(src) };
}

/** An invoked or spawned actor's source as a name; inline logic has none. */
export function sourceName(src: unknown): string {
  if (typeof src !== 'string' || src.startsWith('xstate.invoke.')) return 'inline';
  return src;
}
