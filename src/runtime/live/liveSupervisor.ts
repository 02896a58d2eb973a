import {
  type AnyActor,
  type AnyActorRef,
  type AnyMachineSnapshot,
  createActor,
  type InspectionEvent,
  type Snapshot,
} from 'xstate';
import { forceStop, XSTATE_VERSION } from '../../machines/xstateInternals.ts';
import type { NewJournalEvent } from '../../persistence/journalRepository.ts';
import { RawJson } from '../../persistence/rawJson.ts';
import type { WriteRequest } from '../commit/snapshotWriter.ts';
import {
  captureTimers,
  deriveView,
  findInlineChild,
  journalBetween,
  type SupervisorIdentity,
  type SupervisorView,
  toWrite,
} from './capture.ts';

/** One supervisor living in this process: its actor and what was last captured of it. */
export interface HostedSupervisor {
  readonly identity: SupervisorIdentity;
  readonly actor: AnyActor;
  /** Version of the last capture; the next one gets `version + 1`. */
  version: number;
  lastJson: string | undefined;
  lastView: SupervisorView | null;
  /** Set by inspection when the actor tree changed since the last capture. */
  dirty: boolean;
  /** Answers sent to the actor and not yet committed: the version each commits with. */
  readonly answering: Map<string, number>;
  /** Journal entries the host adds to the next capture (answers, with their values). */
  readonly extraEvents: NewJournalEvent[];
  /** Question ids answered since the last capture: their removal is not a withdrawal. */
  readonly answeredSinceCapture: Set<string>;
  /** Why the runtime failed this supervisor on its own (a snapshot it cannot persist). */
  refusal: string | undefined;
  /** The spawn input, stored with the first write (a fresh start after restore uses it). */
  readonly input: unknown;
  /** When the supervisor last took a call or changed (ms since the epoch): idleness. */
  activeAt: number;
}

/** What starting a supervisor needs besides its machine. */
export interface StartOptions {
  identity: SupervisorIdentity;
  machine: AnyActor['logic'];
  input?: unknown;
  /** A persisted snapshot to restore instead of starting fresh. */
  snapshot?: Snapshot<unknown>;
  /** The version last stored; the first capture writes `version + 1`. */
  version?: number;
  /** Called when the actor tree changed outside a host call (timers, children). */
  onDirty: (hosted: HostedSupervisor) => void;
  /** Called when the actor failed (an action threw, a child failed unhandled). */
  onError: (hosted: HostedSupervisor, error: unknown) => void;
  /** An outside inspector (e.g. Stately's) that sees every inspection event too. */
  inspect?: ((event: InspectionEvent) => void) | undefined;
}

/** An inspector that throws must not stop the supervisor from being persisted. */
function forward(inspect: (event: InspectionEvent) => void, event: InspectionEvent): void {
  try {
    inspect(event);
  } catch {
    // The inspector's failure is its own; persistence goes on.
  }
}

/**
 * Creates and starts a supervisor's actor, watched through system-level inspection so a
 * child that changes on its own marks the supervisor dirty too.
 */
export function startSupervisor(options: StartOptions): HostedSupervisor {
  const hosted: HostedSupervisor = {
    identity: options.identity,
    actor: undefined as unknown as AnyActor,
    version: options.version ?? 0,
    lastJson: undefined,
    lastView: null,
    dirty: true,
    answering: new Map(),
    extraEvents: [],
    answeredSinceCapture: new Set(),
    refusal: undefined,
    input: options.input ?? null,
    activeAt: Date.now(),
  };
  const actor = createActor(options.machine, {
    id: options.identity.id,
    ...(options.input === undefined ? {} : { input: options.input }),
    ...(options.snapshot ? { snapshot: options.snapshot } : {}),
    inspect: (event) => {
      if (options.inspect) forward(options.inspect, event);
      // `stopped` snapshots come from stop(), after the final flush: never persisted.
      if (event.type !== '@xstate.snapshot' || event.snapshot.status === 'stopped') return;
      if (hosted.dirty) return;
      hosted.dirty = true;
      options.onDirty(hosted);
    },
  });
  (hosted as { actor: AnyActor }).actor = actor;
  // An error observer keeps xstate from rethrowing the error and crashing the process.
  actor.subscribe({ error: (error) => options.onError(hosted, error) });
  actor.start();
  return hosted;
}

/**
 * Captures the supervisor if it changed: serializes the persisted snapshot at once (it
 * aliases live context), derives the row and the journal entries since the last capture,
 * and returns the write to queue, or `null` when nothing changed.
 */
export function captureSupervisor(hosted: HostedSupervisor): WriteRequest | null {
  if (!hosted.dirty) return null;
  hosted.dirty = false;
  const snapshot = hosted.actor.getSnapshot() as AnyMachineSnapshot;
  if (snapshot.status === 'stopped') return null;
  const persisted = hosted.actor.getPersistedSnapshot();
  const json = JSON.stringify(persisted);
  // A refusal changes the row (failed) without changing the snapshot: it is written once.
  const refusalPending = hosted.refusal !== undefined && hosted.lastView?.state !== 'failed';
  if (json === hosted.lastJson && hosted.extraEvents.length === 0 && !refusalPending) return null;

  let view = deriveView(snapshot);
  const inline = findInlineChild(persisted);
  if (inline && !hosted.refusal) {
    hosted.refusal = `child actor "${inline}" uses inline logic, which cannot be persisted; register it by name in setup({ actors })`;
  }
  if (hosted.refusal) view = { ...view, state: 'failed', errorMessage: hosted.refusal };

  const version = hosted.version + 1;
  const { events, checkpoint, tasks } = journalBetween(
    hosted.identity.id,
    version,
    hosted.lastView,
    view,
    hosted.answeredSinceCapture,
  );
  const timers = snapshot.status === 'active' ? captureTimers(hosted.actor) : [];
  const write = toWrite(
    hosted.identity,
    view,
    snapshot,
    new RawJson(json),
    timers,
    version,
    XSTATE_VERSION,
    hosted.lastJson === undefined ? hosted.input : null,
  );
  const extra = hosted.extraEvents.splice(0).map((e) => ({ ...e, version }));
  hosted.answeredSinceCapture.clear();
  hosted.version = version;
  hosted.lastJson = json;
  hosted.lastView = view;
  return { write, events: [...extra, ...events], checkpoint, tasks };
}

/**
 * Takes a restored actor's snapshot as already stored: the next capture compares against
 * it, so restoring writes nothing and journals nothing twice. A snapshot XState could not
 * restore (a removed state, say) fails the supervisor with XState's reason.
 */
export function adoptRestored(hosted: HostedSupervisor): void {
  const snapshot = hosted.actor.getSnapshot() as AnyMachineSnapshot;
  hosted.lastJson = JSON.stringify(hosted.actor.getPersistedSnapshot());
  hosted.lastView = deriveView(snapshot);
  hosted.dirty = false;
  if (snapshot.status === 'error') {
    const error = snapshot.error;
    hosted.refusal = `the stored snapshot cannot be restored: ${error instanceof Error ? error.message : String(error)}`;
    hosted.dirty = true;
  }
}

/** True once the supervisor can take no more events. */
export function isFinished(hosted: HostedSupervisor): boolean {
  return hosted.actor.getSnapshot().status !== 'active' || hosted.refusal !== undefined;
}

/**
 * Stops the children of an actor that failed from an action: xstate leaves them running
 * (research E10), and they would keep doing work for a supervisor that is gone.
 */
export function stopLeakedChildren(hosted: HostedSupervisor): void {
  const children = (hosted.actor.getSnapshot() as AnyMachineSnapshot).children as Record<
    string,
    AnyActorRef | undefined
  >;
  for (const child of Object.values(children)) if (child) forceStop(child);
}
