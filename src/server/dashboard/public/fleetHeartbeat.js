// The fleet's heartbeat cell. A heartbeat only means something while work is in flight: a
// supervisor waiting for a person, paused or failed is not expected to show signs of life,
// and a finished one never will again.

import { formatAgo, formatTime } from './dom.js';

/** Silent this long while in flight, a supervisor is called stalled. */
export const STALLED_MS = 5 * 60_000;

const IN_FLIGHT = new Set(['initializing', 'working', 'waiting_for_tasks']);
const FINISHED = new Set(['completed', 'cancelled']);

const time = (value) => (value ? new Date(value).getTime() : Number.NaN);

/** Minutes, hours or days, for a silence of at least a minute. */
function duration(ms) {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  if (minutes < 1440) return `${Math.floor(minutes / 60)} h`;
  return `${Math.floor(minutes / 1440)} d`;
}

/**
 * What the cell says: `{ text, stalled, title }`. The last sign of life is the later of the
 * heartbeat and the last committed write: a write proves life as well, and the heartbeat
 * save point runs only every 30 s by default (never, when turned off).
 */
export function heartbeatCell(view, now = Date.now()) {
  if (FINISHED.has(view.state)) return { text: '', stalled: false, title: null };
  if (!IN_FLIGHT.has(view.state)) {
    return { text: '–', stalled: false, title: 'nothing in flight: no heartbeat expected' };
  }
  const heartbeat = time(view.lastHeartbeat);
  const write = time(view.updatedAt);
  const last = Math.max(...[heartbeat, write].filter(Number.isFinite));
  if (!Number.isFinite(last)) return { text: '–', stalled: false, title: null };
  const title = [
    `last heartbeat: ${formatTime(view.lastHeartbeat)}`,
    `last write: ${formatTime(view.updatedAt)}`,
  ].join('\n');
  const silence = now - last;
  if (silence >= STALLED_MS) return { text: `stalled ${duration(silence)}`, stalled: true, title };
  return { text: formatAgo(last, now), stalled: false, title };
}
