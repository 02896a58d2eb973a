// `POST /supervisors/:id/resume`, the seed's resume endpoint: makes a supervisor run again.
// One that is not in memory is restored from its stored state (source `manual`) and the
// RestorationInfo returned; a paused one is resumed; one already running is left alone (the
// request is journaled).
import { isStewardError } from '../errors.ts';
import type { CommandOptions } from '../model/requester.ts';
import type { SupervisorState } from '../model/supervisor.ts';
import type { SupervisorHost } from '../runtime/supervisorHost.ts';
import type { ResumeReply } from './commandReplies.ts';

/** Resumes `supervisor` (as the caller may see it) for whoever `asked`. */
export async function resume(
  host: SupervisorHost,
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
  // Nothing to change, but journaled all the same, as a version of its own: the trail
  // names who asked for every command, and a repeat with a key finds it and replays this.
  const { version } = await host.recordCommand(supervisor.id, 'resume', asked, {
    resumed: 'running',
  });
  return { resumed: 'running', version, restoration: null };
}
