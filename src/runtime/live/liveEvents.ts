// The events and journal entries a live supervisor is handed, and how it forwards
// inspection: the small types around LiveSupervisor, kept apart so its file holds what it does.
import type { InspectionEvent } from 'xstate';
import type { NewJournalEvent } from '../../persistence/journalRepository.ts';

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
