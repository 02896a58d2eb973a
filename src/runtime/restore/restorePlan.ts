// What restoring a stored supervisor would start from: the decision both a restore and
// the migration dry run (`steward check-migration`) make, from the row alone.
import type { SupervisorContext } from '../../machines/context.ts';
import type { MachineDefinition, MachineRegistry } from '../../machines/registry.ts';
import type { StateViolation } from '../../model/restoration.ts';
import type { SupervisorState } from '../../model/supervisor.ts';
import type { Checkpoint } from '../../model/task.ts';
import type { DeferredSupervisor } from '../../persistence/supervisorRepository.ts';
import type { SupervisorStore } from '../../persistence/supervisorStore.ts';
import { type Upgraded, upgradeSnapshot } from './machineUpgrade.ts';
import { inspectSnapshot } from './snapshotValidation.ts';

/**
 * What a restore starts from: the stored snapshot (with its standard context as validated),
 * a checkpoint, or nothing (afresh).
 */
export type Plan =
  | {
      from: 'stored';
      definition: MachineDefinition;
      upgraded: Upgraded;
      timers: unknown[];
      context: SupervisorContext;
    }
  | {
      from: 'checkpoint';
      definition: MachineDefinition;
      checkpoint: Checkpoint;
      upgraded: Upgraded;
      violations: StateViolation[];
    }
  | { from: 'fresh'; definition: MachineDefinition; violations: StateViolation[] };

/** How many checkpoints a restore walks back through, newest first. */
export const CHECKPOINTS_TRIED = 20;

/**
 * A stored snapshot upgraded to the newest machine version and validated (the machine
 * tried on a copy unless `dryRun` is false: see validateSnapshot).
 */
export function checkSnapshot(
  registry: MachineRegistry,
  machineId: string,
  version: number,
  snapshot: unknown,
  dryRun = true,
): { upgraded?: Upgraded; violations: StateViolation[]; context?: SupervisorContext } {
  const upgraded = upgradeSnapshot(registry, machineId, version, snapshot);
  if ('code' in upgraded) return { violations: [upgraded] };
  return { upgraded, ...inspectSnapshot(upgraded.definition, upgraded.snapshot, dryRun) };
}

/**
 * The newest of a supervisor's checkpoints that validates (upgraded to the newest machine
 * version) and that `accept` takes, walking back; undefined with none.
 */
export async function newestValidCheckpoint(
  deps: { registry: MachineRegistry; store: Pick<SupervisorStore, 'listCheckpoints'> },
  stored: SupervisorState,
  accept: (upgraded: NonNullable<ReturnType<typeof checkSnapshot>['upgraded']>) => boolean = () =>
    true,
): Promise<Omit<Extract<Plan, { from: 'checkpoint' }>, 'violations'> | undefined> {
  for (const checkpoint of await deps.store.listCheckpoints(stored.id, CHECKPOINTS_TRIED)) {
    const { upgraded, violations } = checkSnapshot(
      deps.registry,
      stored.machineId,
      checkpoint.machineVersion,
      checkpoint.snapshot,
    );
    if (upgraded && violations.length === 0 && accept(upgraded)) {
      return { from: 'checkpoint', definition: upgraded.definition, checkpoint, upgraded };
    }
  }
  return undefined;
}

/**
 * The seed's decision: a stored state that validates is restored as it is; one that does
 * not falls back to the newest checkpoint that validates, walking back; with none, the
 * supervisor starts afresh from its stored input. With `dryRun` false, a stored plan has
 * not tried the machine on the snapshot: the caller does, with the actor it builds, and
 * calls `fallBack` if the machine cannot take it (one actor instead of two per restore).
 */
export async function plan(deps: PlanDeps, stored: SupervisorState, dryRun = true): Promise<Plan> {
  const { machineId, machineVersion, snapshot } = stored;
  const mine = checkSnapshot(deps.registry, machineId, machineVersion, snapshot, dryRun);
  if (mine.upgraded && mine.context && mine.violations.length === 0) {
    return {
      from: 'stored',
      definition: mine.upgraded.definition,
      upgraded: mine.upgraded,
      timers: stored.timers,
      context: mine.context,
    };
  }
  // Refused anyway: tried by the machine too, so that every violation is named.
  const violations = dryRun
    ? mine.violations
    : checkSnapshot(deps.registry, machineId, machineVersion, snapshot).violations;
  return fallBack(deps, stored, violations);
}

/** What a plan reads: the machines and the checkpoints. */
type PlanDeps = { registry: MachineRegistry; store: Pick<SupervisorStore, 'listCheckpoints'> };

/**
 * The plan for a stored snapshot that cannot be restored (`violations` say why): the newest
 * checkpoint that validates, or afresh.
 */
export async function fallBack(
  deps: PlanDeps,
  stored: SupervisorState,
  violations: StateViolation[],
): Promise<Exclude<Plan, { from: 'stored' }>> {
  const fallback = await newestValidCheckpoint(deps, stored);
  if (fallback) return { ...fallback, violations };
  return { from: 'fresh', definition: deps.registry.latest(stored.machineId), violations };
}

/**
 * Every stored, unfinished supervisor, a page of 500 at a time in id order, the next page
 * read while the caller restores this one; with `dueBefore`, only those that must run by
 * then (work in flight, a timer due); with `slices`, only those of the slices.
 */
export async function* restorablePages(
  store: Pick<SupervisorStore, 'listRestorable'>,
  dueBefore?: Date,
  slices?: readonly number[],
): AsyncGenerator<SupervisorState[]> {
  const read = (afterId?: string) =>
    store.listRestorable({
      limit: RESTORE_PAGE,
      ...(afterId ? { afterId } : {}),
      ...(dueBefore ? { dueBefore } : {}),
      ...(slices ? { slices } : {}),
    });
  let next = read();
  for (;;) {
    const page = await next;
    if (page.length === 0) return;
    const more = page.length === RESTORE_PAGE;
    if (more) {
      // The next page is read while this one is restored: the database and Node both work.
      next = read(page.at(-1)?.id);
      next.catch(() => {});
    }
    yield page;
    if (!more) return;
  }
}

/** Supervisors read and restored at a time. */
const RESTORE_PAGE = 500;

/** The unfinished supervisors that need not run by `dueBefore`, a page of 1,000 at a time. */
export async function* deferredPages(
  store: Pick<SupervisorStore, 'listDeferred'>,
  dueBefore: Date,
  slices?: readonly number[],
): AsyncGenerator<DeferredSupervisor[]> {
  let afterId: string | undefined;
  for (;;) {
    const page = await store.listDeferred({
      limit: 1_000,
      dueBefore,
      ...(afterId ? { afterId } : {}),
      ...(slices ? { slices } : {}),
    });
    if (page.length === 0) return;
    afterId = page.at(-1)?.id;
    yield page;
  }
}
