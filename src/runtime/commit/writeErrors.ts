// Why a write did not commit, as its callers learn it.
import { StewardError } from '../../errors.ts';

/** The database holds a newer version than the write: another writer got there first. */
export function staleVersion(id: string, stored: number, sent: number | undefined): StewardError {
  return new StewardError(
    'ERR_STALE_VERSION',
    `supervisor ${id}: the database holds version ${stored}, newer than ${sent}; this write was dropped`,
    { supervisorId: id, storedVersion: stored },
  );
}

/** The fence refused the write: this node no longer holds the supervisor's slice. */
export function moved(id: string): StewardError {
  return new StewardError(
    'ERR_SUPERVISOR_MOVED',
    `supervisor ${id}: this node no longer owns it (its slice moved to another node); nothing was applied: send it again`,
    { supervisorId: id },
  );
}

/** The database refuses the row itself: retrying the same row cannot help. */
export function notDurable(id: string, error: Error): StewardError {
  return new StewardError(
    'ERR_NOT_DURABLE',
    `supervisor ${id}: the database refused its snapshot (${error.message})`,
    { supervisorId: id },
    { cause: error },
  );
}
