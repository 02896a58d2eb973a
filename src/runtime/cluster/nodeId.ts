import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * A node id for this process: host name, process id and a random part. A restarted
 * process is a new node (it holds nothing and must take slices under new epochs), so the
 * id is never reused, even by the same host and pid.
 *
 * @example
 * const keeper = new LeaseKeeper({ store, hooks, nodeId: config.nodeId ?? generateNodeId() });
 */
export function generateNodeId(): string {
  const host = hostname().replace(/[^\w.-]/g, '_') || 'node';
  return `${host}-${process.pid}-${randomBytes(4).toString('hex')}`;
}
