// The host's parts, wired in data order: a live supervisor's capture goes to the writer,
// the writer's commits to the effects after commit, which reach the live supervisors and
// the task runner; the restorer rebuilds live supervisors and puts them in service.
import type { Logger } from '../logger.ts';
import { AfterCommit } from './afterCommit.ts';
import { durableWithin } from './commit/commitWait.ts';
import { createSnapshotWriter, type SnapshotWriter } from './commit/snapshotWriter.ts';
import type { SupervisorHostOptions } from './hostApi.ts';
import { LiveSupervisors } from './live/liveSupervisors.ts';
import type { Passivation } from './passivation.ts';
import { Restorer } from './restorer.ts';
import { SliceDuties } from './sliceDuties.ts';
import { createTaskRunner, type TaskRunner } from './taskRunner.ts';

/** How long a call waits for its commit by default (`commitTimeoutMs`). */
export const COMMIT_TIMEOUT_MS = 10_000;

/** The parts of one host. */
export interface HostParts {
  writer: SnapshotWriter;
  lives: LiveSupervisors;
  runner: TaskRunner;
  effects: AfterCommit;
  restorer: Restorer;
  /** Several nodes: what holding slices means here (none on a single node). */
  duties: SliceDuties | undefined;
}

/** Builds and connects the parts of a host. */
export function wireHostParts(
  options: SupervisorHostOptions,
  log: Logger,
  passivation: () => Passivation | undefined,
): HostParts {
  const writer = createSnapshotWriter({
    store: options.store,
    log,
    ...options.writer,
    // Commits come only after a capture, long after this function returned.
    onCommitted: (writes) => effects.committed(writes),
    onRejected: (id, error) =>
      log.error({ supervisorId: id, err: error }, 'supervisor row refused'),
    ...(options.slices
      ? {
          fence: (ids) => (duties as SliceDuties).fence(ids),
          onFenced: (ids) => (duties as SliceDuties).dropIds(ids),
        }
      : {}),
  });
  const lives = new LiveSupervisors(writer, log);
  const runner = createTaskRunner({ registry: options.registry, store: options.store, log });
  const effects = new AfterCommit({ lives, runner, writer, log });
  const restorer = new Restorer({
    store: options.store,
    registry: options.registry,
    log,
    observer: lives.observer,
    inspect: options.inspect,
    lives,
    effects,
    runner,
    durable: (id, version) =>
      durableWithin(writer, id, version, options.commitTimeoutMs ?? COMMIT_TIMEOUT_MS),
  });
  const membership = options.slices;
  const duties = membership
    ? new SliceDuties({ membership, lives, writer, runner, effects, passivation, log })
    : undefined;
  return { writer, lives, runner, effects, restorer, duties };
}
