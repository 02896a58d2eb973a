// The events and journal entries a live supervisor is handed, and how it forwards
// inspection: the small types around LiveSupervisor, kept apart so its file holds what it does.
import type { AnyActor, InspectionEvent, Snapshot } from 'xstate';
import type { NewJournalEvent } from '../../persistence/journalRepository.ts';
import type { SupervisorIdentity } from './capture.ts';

/** A runtime event (a task outcome, a restoration notice). */
export type RuntimeEvent = { type: string } & Record<string, unknown>;

/** A journal entry to be written with the next capture; its version is that capture's. */
export type PendingEntry = Omit<NewJournalEvent, 'version' | 'supervisorId'>;

/** An inspector that throws must not stop the supervisor from being persisted. */
export function forwardInspection(
  inspect: (event: InspectionEvent) => void,
  event: InspectionEvent,
): void {
  try {
    inspect(event);
  } catch {
    // The inspector's failure is its own; persistence goes on.
  }
}

/** What a live supervisor (`Live`) tells the runtime on its own, between calls. */
export interface ObserverOf<Live> {
  /** It changed outside a call (a timer, a child, a runtime event): capture it. */
  changed(live: Live): void;
  /** Its actor failed (an action threw, a child failed unhandled). */
  failed(live: Live, error: unknown): void;
}

/** What a live supervisor (`Live`) is made from. */
export interface OptionsOf<Live> {
  identity: SupervisorIdentity;
  machine: AnyActor['logic'];
  input?: unknown;
  /** A persisted snapshot to restore instead of starting fresh. */
  snapshot?: Snapshot<unknown>;
  /** The version last stored; the first capture writes `version + 1`. */
  version?: number;
  /** False: made but not started (a restore checks the snapshot first); `start()` later. */
  start?: boolean;
  observer: ObserverOf<Live>;
  /** An outside inspector (e.g. Stately's) that sees every inspection event too. */
  inspect?: ((event: InspectionEvent) => void) | undefined;
}
