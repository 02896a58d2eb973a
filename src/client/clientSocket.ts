import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { type ErrorCode, isKnownErrorCode } from '../protocol/errorCodes.ts';
import {
  CLOSE_UNAUTHENTICATED,
  type ClientFrame,
  PROTOCOL_VERSION,
  ServerFrame,
} from '../protocol/frames.ts';
import { type BackoffPolicy, backoffDelay } from './backoff.ts';
import { StewardClientError } from './clientError.ts';
import type { ClientLog } from './clientLog.ts';

/** Who the server says the token speaks for (its `hello.ok`). */
export interface ClientIdentity {
  owner: string | null;
  admin: boolean;
}

/** How a connection ended. */
export interface ConnectionLoss {
  code: number;
  reason: string;
}

interface ClientSocketOptions {
  /** `ws://host:port/ws` */
  url: string;
  token: string;
  /** `header`: `Authorization: Bearer` on the upgrade. `hello`: a first `hello` frame. */
  auth: 'header' | 'hello';
  backoff: BackoffPolicy;
  heartbeatMs: number;
  log: ClientLog;
  /** Authenticated: requests may be sent from here on. */
  onReady(identity: ClientIdentity): void;
  /** A valid frame other than `hello.ok` and `pong`, received once ready. */
  onFrame(frame: ServerFrame): void;
  /** An authenticated connection ended; a new one is being dialled. */
  onLost(loss: ConnectionLoss): void;
  /** The server refused the client for good (bad token, wrong path): no more attempts. */
  onRefused(error: StewardClientError, loss: ConnectionLoss): void;
}

/** One WebSocket at a time, dialled again after every loss until closed or refused. */
export interface ClientSocket {
  /** Sends a frame when authenticated; false when there is no ready connection. */
  send(frame: ClientFrame): boolean;
  readonly ready: boolean;
  /** Closes the connection and dials no more. Idempotent. */
  close(): Promise<void>;
}

/** Upgrade refusals that no retry can fix. */
const DEFINITIVE_HTTP = new Map<number, ErrorCode>([
  [401, 'ERR_UNAUTHENTICATED'],
  [403, 'ERR_ORIGIN_NOT_ALLOWED'],
  [404, 'ERR_ROUTE_NOT_FOUND'],
]);

function decode(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function sendJson(ws: WebSocket, frame: ClientFrame, log: ClientLog): void {
  // A send that fails means the socket is going down; its close event starts the recovery.
  ws.send(JSON.stringify(frame), (error) => {
    if (error) log.debug({ err: error }, 'steward client: send failed');
  });
}

export function openClientSocket(options: ClientSocketOptions): ClientSocket {
  const { log } = options;
  let current: WebSocket | undefined;
  let ready = false;
  let stopped = false;
  let attempt = 0;
  let redial: NodeJS.Timeout | undefined;
  let onClosed: (() => void) | undefined;

  function dial(): void {
    if (stopped) return;
    const headers = options.auth === 'header' ? { authorization: `Bearer ${options.token}` } : {};
    const ws = new WebSocket(options.url, { headers, handshakeTimeout: 10_000 });
    current = ws;
    let refusal: StewardClientError | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    let heard = true;

    ws.on('unexpected-response', (_request, response) => {
      response.resume();
      const code = DEFINITIVE_HTTP.get(response.statusCode ?? 0);
      if (code) refusal = new StewardClientError(code, refusedMessage(code, options.url));
      else log.warn({ status: response.statusCode }, 'steward client: upgrade refused');
      ws.terminate();
    });
    ws.on('open', () => {
      log.debug({ url: options.url }, 'steward client: socket open');
      if (options.auth === 'hello') {
        const { token } = options;
        sendJson(
          ws,
          { type: 'hello', requestId: randomUUID(), token, protocol: PROTOCOL_VERSION },
          log,
        );
      }
      // Anything received counts as a sign of life, not only the pong: a server busy sending
      // a large backlog may read our ping late, and dropping it then would only start over.
      heartbeat = setInterval(() => {
        if (!heard) {
          log.warn({ url: options.url }, 'steward client: no reply to ping, reconnecting');
          ws.terminate();
          return;
        }
        heard = false;
        sendJson(ws, { type: 'ping', requestId: randomUUID() }, log);
      }, options.heartbeatMs);
    });
    ws.on('message', (data) => {
      heard = true;
      const frame = parse(decode(data));
      if (!frame) return;
      if (frame.type === 'pong') return;
      if (frame.type === 'hello.ok') {
        if (ready) return;
        if (frame.protocol !== PROTOCOL_VERSION) {
          log.warn({ protocol: frame.protocol }, 'steward client: server speaks another protocol');
        }
        ready = true;
        attempt = 0;
        options.onReady({ owner: frame.owner, admin: frame.admin });
        return;
      }
      if (!ready) {
        if (frame.type === 'error' && frame.code === 'ERR_UNAUTHENTICATED') {
          refusal = StewardClientError.fromFrame(frame);
        } else log.debug({ type: frame.type }, 'steward client: frame before hello.ok ignored');
        return;
      }
      options.onFrame(frame);
    });
    ws.on('error', (error) => log.debug({ err: error }, 'steward client: socket error'));
    ws.on('close', (code, reasonBytes) => {
      clearInterval(heartbeat);
      const wasReady = ready;
      ready = false;
      current = undefined;
      const reason = reasonBytes.toString('utf8');
      if (stopped) {
        onClosed?.();
        return;
      }
      // 4401 on a connection that was authenticated: the server's tokens changed. The grant
      // may only have changed, so dial again; a token that was removed is refused there.
      if (code === CLOSE_UNAUTHENTICATED && !refusal && !wasReady) {
        refusal = new StewardClientError(
          'ERR_UNAUTHENTICATED',
          refusedMessage('ERR_UNAUTHENTICATED', options.url),
        );
      }
      if (refusal) {
        stopped = true;
        log.error(
          { code: refusal.code, url: options.url },
          'steward client: refused by the server',
        );
        options.onRefused(refusal, { code, reason });
        return;
      }
      if (wasReady) options.onLost({ code, reason });
      const wait = backoffDelay(attempt++, options.backoff);
      log.info({ code, reason, retryInMs: wait }, 'steward client: disconnected');
      redial = setTimeout(dial, wait);
    });
  }

  function parse(text: string): ServerFrame | undefined {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      log.warn({ frame: text.slice(0, 200) }, 'steward client: frame is not JSON, ignored');
      return undefined;
    }
    const parsed = ServerFrame.safeParse(json);
    if (parsed.success) return parsed.data;
    const shape = json as { type?: unknown; code?: unknown } | null;
    if (
      shape?.type === 'error' &&
      typeof shape.code === 'string' &&
      !isKnownErrorCode(shape.code)
    ) {
      // A newer server's code: the request it refused is left to its timeout.
      log.warn(
        { frame: text.slice(0, 200), code: shape.code },
        'steward client: error code unknown to this client (a newer server?), frame ignored',
      );
      return undefined;
    }
    log.warn(
      { frame: text.slice(0, 200), issues: parsed.error.issues.slice(0, 5) },
      'steward client: frame does not fit the protocol, ignored',
    );
    return undefined;
  }

  dial();

  let closing: Promise<void> | undefined;
  return {
    get ready() {
      return ready;
    },
    send(frame) {
      if (!ready || current?.readyState !== WebSocket.OPEN) return false;
      sendJson(current, frame, log);
      return true;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        stopped = true;
        clearTimeout(redial);
        const ws = current;
        if (!ws) {
          resolve();
          return;
        }
        // A server that does not answer the close handshake is not waited for long.
        const deadline = setTimeout(() => ws.terminate(), 1_000);
        onClosed = () => {
          clearTimeout(deadline);
          resolve();
        };
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(1000, 'client closing');
      });
      return closing;
    },
  };
}

function refusedMessage(code: ErrorCode, url: string): string {
  if (code === 'ERR_UNAUTHENTICATED') return `${url} refused the token: check it (no retry)`;
  if (code === 'ERR_ORIGIN_NOT_ALLOWED') return `${url} refused this origin (no retry)`;
  return `${url} has no WebSocket endpoint: the path is usually /ws (no retry)`;
}
