// `POST /supervisors/:id/resume`, the seed's resume endpoint: makes a supervisor run again.
// One that is not in memory is restored from its stored state (source `manual`) and the
// RestorationInfo returned; a paused one is resumed; one already running is left alone.
import { isStewardError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { CommandOptions } from '../model/requester.ts';
import type { SupervisorState } from '../model/supervisor.ts';
import type { SupervisorHost } from '../runtime/supervisorHost.ts';
import type { ResumeReply } from './commandReplies.ts';

/** Resumes `supervisor` (as the caller may see it) for whoever `asked`. */
export async function resume(
  host: SupervisorHost,
  log: Logger,
  supervisor: SupervisorState,
  asked: CommandOptions,
): Promise<ResumeReply> {
  const live = host.committed(supervisor.id);
  if (!live) {
    try {
      const restoration = await host.restore(supervisor.id, 'manual', asked);
      return { resumed: 'restored', restoration };
    } catch (error) {
      // Passivated: it runs here, out of memory until its next event.
      if (!isStewardError(error, 'ERR_SUPERVISOR_EXISTS')) throw error;
    }
  }
  if (supervisor.state === 'paused') {
    const { version } = await host.resume(supervisor.id, asked);
    return { resumed: 'unpaused', version, restoration: null };
  }
  if (asked.idempotency) {
    // Nothing to change, but a key to keep: journaled as a version of its own, so that a
    // repeat finds the key and replays this reply, and the trail names who asked.
    const { version } = await host.recordCommand(supervisor.id, 'resume', asked, {
      resumed: 'running',
    });
    return { resumed: 'running', version, restoration: null };
  }
  const version = live?.version ?? supervisor.version;
  // Nothing changed, so nothing is journaled; the request is logged for the trail.
  log.info(
    { audit: 'supervisor.resume', supervisorId: supervisor.id, by: asked.by },
    'resume: already running',
  );
  return { resumed: 'running', version, restoration: null };
}
