// Every wait on a commit is bounded: after the timeout the caller learns "in doubt" (it may
// still commit, the writer keeps trying), never nothing.
import { StewardError } from '../../errors.ts';
import { setTimeoutAfterIo } from '../../timers.ts';
import type { SnapshotWriter } from './snapshotWriter.ts';

/** Resolves once `version` is durable, or fails with ERR_COMMIT_IN_DOUBT after `timeoutMs`. */
export async function durableWithin(
  writer: Pick<SnapshotWriter, 'whenDurable'>,
  id: string,
  version: number,
  timeoutMs: number,
): Promise<void> {
  const committed = writer.whenDurable(id, version);
  committed.catch(() => {});
  let cancel: (() => void) | undefined;
  const timeout = new Promise<never>((_, reject) => {
    // After I/O already received: a process frozen meanwhile does not time out a commit
    // whose reply is waiting to be read.
    cancel = setTimeoutAfterIo(() => {
      reject(
        new StewardError(
          'ERR_COMMIT_IN_DOUBT',
          `supervisor ${id}: version ${version} has not committed within ${timeoutMs} ms and may still commit (the runtime keeps trying): send the same request again to learn; an answer that committed is acknowledged as a duplicate`,
          { supervisorId: id, version },
        ),
      );
    }, timeoutMs);
  });
  try {
    await Promise.race([committed, timeout]);
  } finally {
    cancel?.();
  }
}
