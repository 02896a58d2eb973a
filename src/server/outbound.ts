import type { WebSocket } from 'ws';
import type { ServerFrame } from '../protocol/frames.ts';

/** When a connection's unread frames become a problem. */
export interface OutboundLimits {
  /** Unsent bytes above which status frames are coalesced and the sender should wait. */
  softBufferBytes: number;
  /**
   * Unsent bytes above which a client that has read nothing for `stallMs` is dropped; one
   * with four times as many is dropped at once. A burst from one commit to a client that
   * reads is not a reason to drop it.
   */
  hardBufferBytes: number;
  stallMs: number;
}

/** The frames on their way to one client, counted until the socket has written them. */
export interface Outbound {
  send(frame: ServerFrame): void;
  /**
   * Status frames only matter as the newest one: under pressure they wait, replaced. The
   * owner is kept with a waiting frame, for `parked()`.
   */
  sendStatus(frame: ServerFrame & { supervisorId: string }, owner: string | null): void;
  /** Resolves once the unsent bytes are below the soft limit (or the socket is gone). */
  writable(): Promise<void>;
  /** True while more than the soft limit is unsent. */
  readonly pressed: boolean;
  /** Drops a waiting status frame of a supervisor that finished or is no longer wanted. */
  forget(supervisorId: string): void;
  /** The supervisors (and their owners) whose status frames wait for the client to read. */
  parked(): Array<{ supervisorId: string; owner: string | null }>;
  /** Stops sending and wakes every waiter: the socket closed. */
  close(): void;
}

/**
 * Sends frames on a socket with bounded memory: bytes count from `send` until ws reports
 * them written to the kernel. `onDrained` is called when pressure is gone, `onTooSlow` when
 * the client is dropped for not reading.
 */
export function createOutbound(
  socket: WebSocket,
  limits: OutboundLimits,
  hooks: { onDrained: () => void; onTooSlow: (unsentBytes: number) => void },
): Outbound {
  const parkedStatus = new Map<string, { frame: ServerFrame; owner: string | null }>();
  let outstanding = 0;
  /** Set once the soft limit is passed: only then is there anything for `drained` to do. */
  let pressedSinceDrain = false;
  /** When the socket last wrote something out, or began to have something to write. */
  let progressAt = Date.now();
  let closed = false;
  let waiters: Array<() => void> = [];

  function tooSlow(): boolean {
    if (outstanding <= limits.hardBufferBytes) return false;
    return outstanding > 4 * limits.hardBufferBytes || Date.now() - progressAt > limits.stallMs;
  }

  function wake(): void {
    const woken = waiters;
    waiters = [];
    for (const resolve of woken) resolve();
  }

  function drained(): void {
    const parked = [...parkedStatus.values()];
    parkedStatus.clear();
    for (const { frame } of parked) send(frame);
    wake();
    hooks.onDrained();
  }

  function send(frame: ServerFrame): void {
    if (closed) return;
    const data = JSON.stringify(frame);
    const bytes = Buffer.byteLength(data);
    if (outstanding === 0) progressAt = Date.now();
    outstanding += bytes;
    if (outstanding > limits.softBufferBytes) pressedSinceDrain = true;
    if (tooSlow()) {
      closed = true;
      hooks.onTooSlow(outstanding);
      socket.terminate();
      wake();
      return;
    }
    socket.send(data, () => {
      outstanding -= bytes;
      progressAt = Date.now();
      if (pressedSinceDrain && outstanding <= limits.softBufferBytes / 2) {
        pressedSinceDrain = false;
        drained();
      }
    });
  }

  return {
    send,
    sendStatus(frame, owner) {
      if (outstanding > limits.softBufferBytes)
        parkedStatus.set(frame.supervisorId, { frame, owner });
      else send(frame);
    },
    writable() {
      if (outstanding <= limits.softBufferBytes || closed) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    get pressed() {
      return outstanding > limits.softBufferBytes;
    },
    forget(supervisorId) {
      parkedStatus.delete(supervisorId);
    },
    parked: () => [...parkedStatus].map(([supervisorId, { owner }]) => ({ supervisorId, owner })),
    close() {
      closed = true;
      parkedStatus.clear();
      wake();
    },
  };
}
