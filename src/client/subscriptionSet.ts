import { randomUUID } from 'node:crypto';
import type { ClientFrame, ServerFrame } from '../protocol/frames.ts';
import { type BackoffPolicy, backoffDelay } from './backoff.ts';
import { RETRYABLE_CODES, StewardClientError } from './clientError.ts';
import type { ClientLog } from './clientLog.ts';

/** Which supervisors' questions and status to receive: all the token may see, an owner's, or some by id. */
export type SubscribeTarget =
  | { all: true }
  | { owner: string }
  | { supervisorIds: readonly string[] };

interface Entry {
  target: SubscribeTarget;
  /** Callers waiting for the server to confirm this subscription for the first time. */
  waiters: Array<{ resolve(pending: number): void; reject(error: StewardClientError): void }>;
  retries: number;
  retry: NodeJS.Timeout | undefined;
}

interface SubscriptionSetOptions {
  send(frame: ClientFrame): boolean;
  backoff: BackoffPolicy;
  log: ClientLog;
}

/**
 * The subscriptions of a client, sent again on every new connection: the server answers each
 * with every matching pending question, which is how a client catches up after a drop.
 */
export interface SubscriptionSet {
  /** Resolves with the number of pending questions the server sent with it. */
  add(target: SubscribeTarget): Promise<number>;
  /**
   * Forgets the subscription made with this target and takes it back on the server; ids
   * another remaining subscription names stay. Resolves once the server confirmed, or at
   * once when there is no connection (nothing is re-sent on the next one).
   */
  remove(target: SubscribeTarget): Promise<void>;
  onReply(frame: ServerFrame): boolean;
  /** A connection is ready: sends every subscription. */
  sendAll(): void;
  connectionLost(): void;
  rejectAll(error: StewardClientError): void;
}

function keyOf(target: SubscribeTarget): string {
  if ('all' in target) return 'all';
  if ('owner' in target) return `owner:${target.owner}`;
  return `ids:${[...target.supervisorIds].sort().join(',')}`;
}

function scopeFrame(
  type: 'subscribe' | 'unsubscribe',
  requestId: string,
  target: SubscribeTarget,
): ClientFrame {
  if ('all' in target) return { type, requestId, all: true };
  if ('owner' in target) return { type, requestId, owner: target.owner };
  return { type, requestId, supervisorIds: [...target.supervisorIds] };
}

export function createSubscriptionSet(options: SubscriptionSetOptions): SubscriptionSet {
  const entries = new Map<string, Entry>();
  const byRequest = new Map<string, Entry>();
  /** Unsubscribe requests waiting for the server's `unsubscribed`. */
  const removals = new Map<string, () => void>();

  function send(entry: Entry): void {
    const requestId = randomUUID();
    if (options.send(scopeFrame('subscribe', requestId, entry.target))) {
      byRequest.set(requestId, entry);
    }
  }

  /** Forgets a subscription for good; callers still waiting for it are told why. */
  function drop(entry: Entry, error: StewardClientError): void {
    entries.delete(keyOf(entry.target));
    clearTimeout(entry.retry);
    const waiters = entry.waiters;
    entry.waiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }

  /** The part of a target no remaining subscription covers: what the server should drop. */
  function uncovered(target: SubscribeTarget): SubscribeTarget | null {
    if (!('supervisorIds' in target)) return target;
    const named = new Set<string>();
    for (const entry of entries.values()) {
      if ('supervisorIds' in entry.target)
        for (const id of entry.target.supervisorIds) named.add(id);
    }
    const ids = target.supervisorIds.filter((id) => !named.has(id));
    return ids.length > 0 ? { supervisorIds: ids } : null;
  }

  return {
    remove(target) {
      const entry = entries.get(keyOf(target));
      if (entry) {
        for (const [requestId, waiting] of byRequest) {
          if (waiting === entry) byRequest.delete(requestId);
        }
        drop(
          entry,
          new StewardClientError(
            'ERR_UNSUBSCRIBED',
            'the subscription was taken back before the server confirmed it',
          ),
        );
      }
      const scope = uncovered(target);
      if (!scope) return Promise.resolve();
      const requestId = randomUUID();
      return new Promise<void>((resolve) => {
        if (options.send(scopeFrame('unsubscribe', requestId, scope))) {
          removals.set(requestId, resolve);
        } else resolve();
      });
    },
    add(target) {
      const key = keyOf(target);
      let entry = entries.get(key);
      if (!entry) {
        entry = { target, waiters: [], retries: 0, retry: undefined };
        entries.set(key, entry);
      }
      const waiting = entry;
      const confirmed = new Promise<number>((resolve, reject) => {
        waiting.waiters.push({ resolve, reject });
      });
      send(waiting);
      return confirmed;
    },
    onReply(frame) {
      if (!('requestId' in frame) || frame.requestId === null) return false;
      const { requestId } = frame;
      const removal = removals.get(requestId);
      if (removal && (frame.type === 'unsubscribed' || frame.type === 'error')) {
        removals.delete(requestId);
        removal();
        return true;
      }
      if (frame.type !== 'subscribed' && frame.type !== 'error') return false;
      const entry = byRequest.get(requestId);
      if (!entry) return false;
      byRequest.delete(requestId);
      if (frame.type === 'subscribed') {
        const waiters = entry.waiters;
        entry.waiters = [];
        entry.retries = 0;
        for (const waiter of waiters) waiter.resolve(frame.pendingQuestions);
        return true;
      }
      if (RETRYABLE_CODES.has(frame.code)) {
        const wait = backoffDelay(entry.retries++, options.backoff);
        options.log.warn(
          { code: frame.code, retryInMs: wait },
          'steward client: subscribe failed, retrying',
        );
        clearTimeout(entry.retry);
        entry.retry = setTimeout(() => send(entry), wait);
        return true;
      }
      // Refused (e.g. ERR_FORBIDDEN): sending it after every reconnect would only fail again.
      drop(entry, StewardClientError.fromFrame(frame));
      return true;
    },
    sendAll() {
      const all = entries.get('all');
      for (const entry of entries.values()) {
        // `all` covers every supervisor the token may see; the others would only repeat it.
        if (all && entry !== all && entry.waiters.length === 0) continue;
        send(entry);
      }
    },
    connectionLost() {
      byRequest.clear();
      // A new connection starts without the subscription: it is taken back all the same.
      for (const resolve of removals.values()) resolve();
      removals.clear();
      for (const entry of entries.values()) {
        clearTimeout(entry.retry);
        entry.retry = undefined;
      }
    },
    rejectAll(error) {
      for (const resolve of removals.values()) resolve();
      removals.clear();
      for (const entry of entries.values()) drop(entry, error);
    },
  };
}
