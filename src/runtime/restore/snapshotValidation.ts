import { type AnyActorLogic, type AnyStateMachine, createActor, type Snapshot } from 'xstate';
import { SupervisorContext } from '../../machines/context.ts';
import type { MachineDefinition } from '../../machines/registry.ts';
import type { StateViolation } from '../../model/restoration.ts';

interface PersistedChild {
  src?: unknown;
  snapshot?: unknown;
}

function isMachine(logic: AnyActorLogic | undefined): logic is AnyStateMachine {
  return typeof (logic as { root?: unknown } | undefined)?.root === 'object';
}

/**
 * Every child in a persisted snapshot whose logic the machine does not have by name.
 * XState drops such a child silently on restore; here it is a violation.
 */
function unregisteredChildren(machine: AnyStateMachine, snapshot: unknown, path = ''): string[] {
  const children = (snapshot as { children?: Record<string, PersistedChild> } | null)?.children;
  const actors = machine.implementations.actors as Record<string, AnyActorLogic>;
  const found: string[] = [];
  for (const [id, child] of Object.entries(children ?? {})) {
    const logic = typeof child.src === 'string' ? actors[child.src] : undefined;
    if (!logic) found.push(`${path}${id} (${String(child.src)})`);
    else if (isMachine(logic))
      found.push(...unregisteredChildren(logic, child.snapshot, `${path}${id}/`));
  }
  return found;
}

/**
 * The violation of an actor made from a stored snapshot that its machine could not take (a
 * removed or renamed state: XState puts it in `error` without throwing), if it is one.
 */
export function cannotTake(restored: {
  status: string;
  error?: unknown;
}): StateViolation | undefined {
  if (restored.status !== 'error') return undefined;
  const error = restored.error;
  const reason = error instanceof Error ? error.message : String(error);
  return { code: 'state_missing', message: `the machine cannot take the stored state: ${reason}` };
}

/**
 * Checks a stored snapshot before it is restored, beyond its shape: the machine can take
 * it (a dry run, nothing started: a removed or renamed state is caught here), every child
 * resolves to registered logic, the standard context is valid (progress 0–100, questions
 * well-formed), question ids are unique, and the machine's own invariants hold.
 * Returns every violation found; empty means it can be restored as it is. Without
 * `dryRun` the machine is not tried: the caller builds the real actor and checks it
 * (`cannotTake`), which costs one actor instead of two.
 */
export function validateSnapshot(
  definition: MachineDefinition,
  snapshot: unknown,
  dryRun = true,
): StateViolation[] {
  return inspectSnapshot(definition, snapshot, dryRun).violations;
}

/**
 * validateSnapshot's violations, and the standard context as it parsed when it did: a
 * restore derives the supervisor's first view from it instead of parsing it again.
 */
export function inspectSnapshot(
  definition: MachineDefinition,
  snapshot: unknown,
  dryRun = true,
): { violations: StateViolation[]; context?: SupervisorContext } {
  const shaped = snapshot as { status?: unknown; value?: unknown; context?: unknown } | null;
  if (!shaped || typeof shaped !== 'object' || shaped.value === undefined) {
    return {
      violations: [
        { code: 'snapshot_unreadable', message: 'the stored snapshot has no state value' },
      ],
    };
  }
  const violations: StateViolation[] = [];
  if (dryRun) {
    // restoreSnapshot mutates its input, and nothing runs before start(): a safe dry run.
    const probe = createActor(definition.machine, {
      snapshot: structuredClone(snapshot) as Snapshot<unknown>,
    }).getSnapshot();
    const violation = cannotTake(probe);
    if (violation) violations.push(violation);
  }
  for (const child of unregisteredChildren(definition.machine, snapshot)) {
    violations.push({
      code: 'child_unregistered',
      message: `child actor ${child} has no logic registered under that name`,
      subject: child,
    });
  }
  const context = SupervisorContext.safeParse(shaped.context);
  if (!context.success) {
    for (const issue of context.error.issues) {
      violations.push({
        code: 'context_invalid',
        message: `context.${issue.path.join('.')}: ${issue.message}`,
        subject: issue.path.join('.'),
      });
    }
  } else {
    const seen = new Set<string>();
    for (const question of context.data.pendingQuestions) {
      if (seen.has(question.id)) {
        violations.push({
          code: 'question_id_duplicate',
          message: `question ${question.id} is pending twice`,
          subject: question.id,
        });
      }
      seen.add(question.id);
    }
  }
  for (const message of definition.invariants?.({ value: shaped.value, context: shaped.context }) ??
    []) {
    violations.push({ code: 'invariant', message });
  }
  return context.success ? { violations, context: context.data } : { violations };
}
