import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { ErrorCode } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { SupervisorHost } from '../runtime/supervisorHost.ts';
import { bearerToken, type Principal, type TokenTable } from './auth.ts';
import type { Availability } from './availability.ts';
import { type Connection, type ConnectionLimits, serveConnection } from './connection.ts';
import { httpStatusOf } from './httpErrors.ts';
import type { ServerMetrics } from './metrics.ts';
import { isOriginAllowed } from './origins.ts';
import { createDeliveryCounter } from './questionFrames.ts';

/** Options of the WebSocket side of the server. */
export interface WsGatewayOptions {
  host: SupervisorHost;
  tokens: TokenTable;
  metrics: ServerMetrics;
  log: Logger;
  limits: ConnectionLimits;
  /** Browser origins allowed besides the server's own. */
  allowedOrigins: readonly string[];
  /** How often clients are pinged; one missed pong and the connection is closed. */
  pingIntervalMs: number;
  availability: Availability;
  /** When every runtime process started on the database, this one included (`deliveryCount`). */
  runtimeStarts: readonly Date[];
}

/** Accepts WebSocket upgrades on `/ws` and fans committed changes out to the clients. */
export interface WsGateway {
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  clients(): number;
  /** Closes the connections whose token no longer holds; returns how many. */
  revalidate(): number;
  /** Closes every connection (1001, going away) and stops listening to the host. */
  close(): Promise<void>;
}

/** Ends an upgrade with the HTTP status the registry declares for `code`. */
function refuse(socket: Duplex, code: ErrorCode): void {
  const status = httpStatusOf(code);
  const reason = STATUS_CODES[status] ?? 'Error';
  const body = JSON.stringify({ error: { code, message: reason } });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function createWsGateway(options: WsGatewayOptions): WsGateway {
  const { host, tokens, metrics, log } = options;
  const deliveries = createDeliveryCounter(options.runtimeStarts);
  const connections = new Set<Connection>();
  // Frames between the protocol limit and this are answered with ERR_MESSAGE_TOO_LARGE;
  // beyond it ws closes the connection (1009) rather than buffer without bound.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: Math.max(options.limits.maxFrameBytes * 16, 1024 * 1024),
    perMessageDeflate: false,
  });

  // A change goes only to connections that may see it: its owner's and the admins'. With
  // a thousand clients, offering every change to every connection would cost more than
  // the commit that produced it.
  const admins = new Set<Connection>();
  const byOwner = new Map<string, Set<Connection>>();
  function index(connection: Connection): void {
    const principal = connection.principal;
    if (!principal) return;
    if (principal.admin) admins.add(connection);
    else if (principal.owner !== null) {
      const set = byOwner.get(principal.owner) ?? new Set();
      set.add(connection);
      byOwner.set(principal.owner, set);
    }
  }
  function unindex(connection: Connection): void {
    admins.delete(connection);
    const owner = connection.principal?.owner;
    const set = owner == null ? undefined : byOwner.get(owner);
    set?.delete(connection);
    if (owner != null && set?.size === 0) byOwner.delete(owner);
  }

  const unsubscribe = host.subscribe((change) => {
    for (const connection of admins) connection.onChange(change);
    if (change.owner !== null) {
      for (const connection of byOwner.get(change.owner) ?? []) connection.onChange(change);
    }
    if (change.type === 'question.resolved')
      deliveries.forget(change.supervisorId, change.questionId);
    if (change.type === 'supervisor.finished') deliveries.forget(change.supervisorId);
  });

  const unsubscribeAvailability = options.availability.subscribe((status) => {
    for (const connection of connections) connection.onAvailability(status);
  });

  const heartbeat = setInterval(() => {
    for (const connection of connections) connection.checkAlive();
  }, options.pingIntervalMs);
  heartbeat.unref();

  return {
    handleUpgrade(request, socket, head) {
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (url.pathname !== '/ws') {
        refuse(socket, 'ERR_ROUTE_NOT_FOUND');
        return;
      }
      if (!isOriginAllowed(request, options.allowedOrigins)) {
        log.warn({ origin: request.headers.origin }, 'websocket refused: origin not allowed');
        refuse(socket, 'ERR_ORIGIN_NOT_ALLOWED');
        return;
      }
      const presented = bearerToken(request.headers.authorization);
      let principal: Principal | null = null;
      if (request.headers.authorization !== undefined) {
        principal = tokens.authenticate(presented);
        if (!principal) {
          metrics.authFailures.inc();
          refuse(socket, 'ERR_UNAUTHENTICATED');
          return;
        }
      }
      wss.handleUpgrade(request, socket, head, (ws) => {
        const connection = serveConnection(ws, principal, {
          host,
          tokens,
          deliveries,
          metrics,
          log,
          limits: options.limits,
          onAuthenticated: index,
          availability: options.availability,
        });
        connections.add(connection);
        metrics.clients.set(connections.size);
        ws.on('close', () => {
          connections.delete(connection);
          unindex(connection);
          metrics.clients.set(connections.size);
        });
      });
    },
    clients: () => connections.size,
    revalidate() {
      let closed = 0;
      for (const connection of connections) if (!connection.revalidate()) closed++;
      return closed;
    },
    async close() {
      clearInterval(heartbeat);
      unsubscribe();
      unsubscribeAvailability();
      for (const ws of wss.clients) ws.close(1001, 'server shutting down');
      await new Promise<void>((resolve) => {
        const deadline = setTimeout(() => {
          for (const ws of wss.clients) ws.terminate();
          resolve();
        }, 2_000);
        const check = () => {
          if (wss.clients.size === 0) {
            clearTimeout(deadline);
            resolve();
          } else setTimeout(check, 20);
        };
        check();
      });
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
