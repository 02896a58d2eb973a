import type {
  QuestionAskedFrame,
  QuestionResolvedFrame,
  RuntimeStatusFrame,
  SupervisorStatusFrame,
} from '../protocol/frames.ts';
import type { ClientLog } from './clientLog.ts';
import type { ClientIdentity, ConnectionLoss } from './clientSocket.ts';

/** A `supervisor.status` frame: a supervisor's lifecycle state, phase, activity and progress. */
export type SupervisorStatus = SupervisorStatusFrame;
/** A `question.resolved` frame: answered (by anyone), withdrawn or expired. */
export type QuestionResolution = QuestionResolvedFrame;

/** The events of a client and what each listener receives. */
export interface StewardClientEventMap {
  /** A supervisor's status changed (stale frames are dropped). */
  status: SupervisorStatus;
  /** A question was resolved. */
  resolved: QuestionResolution;
  /**
   * A question was asked again as its reminder (`reminder: true`) or escalated
   * (`escalated: true`, `audience` the escalation's), also one this client already took
   * from `questions()`. An escalated question sent again later (a reconnect) comes again.
   */
  followUp: QuestionAskedFrame;
  /**
   * The runtime lost or regained its database. While `unavailable` the client keeps
   * unacknowledged answers and sends them again (with backoff) until they are taken.
   */
  runtime: RuntimeStatusFrame;
  /** Authenticated on a new connection; subscriptions and unacknowledged answers are being re-sent. */
  connected: ClientIdentity;
  /** The connection dropped; `willReconnect` is false after `close()` or a refusal. */
  disconnected: ConnectionLoss & { willReconnect: boolean };
}

/**
 * Listens to a client's events. A listener that throws is logged and does not stop the
 * others, nor the client.
 *
 * @example
 * const stop = client.events.on('status', (s) => console.log(s.supervisorId, s.state, s.progress));
 * stop(); // no more calls
 */
export interface StewardClientEvents {
  on<K extends keyof StewardClientEventMap>(
    type: K,
    listener: (event: StewardClientEventMap[K]) => void,
  ): () => void;
}

interface ClientEventHub extends StewardClientEvents {
  emit<K extends keyof StewardClientEventMap>(type: K, event: StewardClientEventMap[K]): void;
}

type Listener = (event: never) => void;

export function createClientEvents(log: ClientLog): ClientEventHub {
  const listeners = new Map<keyof StewardClientEventMap, Set<Listener>>();
  return {
    on(type, listener) {
      const set = listeners.get(type) ?? new Set<Listener>();
      listeners.set(type, set);
      set.add(listener);
      return () => set.delete(listener);
    },
    emit(type, event) {
      for (const listener of listeners.get(type) ?? []) {
        try {
          (listener as (event: StewardClientEventMap[typeof type]) => void)(event);
        } catch (error) {
          log.error({ err: error, event: type }, 'steward client: event listener threw');
        }
      }
    },
  };
}
