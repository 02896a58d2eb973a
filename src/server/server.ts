import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { StewardError } from '../errors.ts';
import { type Logger, silentLogger } from '../logger.ts';
import type { MachineRegistry } from '../machines/registry.ts';
import { DEFAULT_MAX_FRAME_BYTES } from '../protocol/frames.ts';
import { DEFAULT_MAX_BODY_BYTES } from '../protocol/http.ts';
import type { SupervisorDeletion } from '../runtime/retention.ts';
import type { SupervisorHost } from '../runtime/supervisorHost.ts';
import type { TokenGrant, TokenTable } from './auth.ts';
import { type Availability, createAvailability } from './availability.ts';
import type { ConnectionLimits } from './connection.ts';
import { createHttpApi } from './httpApi.ts';
import type { ServerMetrics } from './metrics.ts';
import { createWsGateway } from './wsGateway.ts';

/** Options of the runtime server. */
export interface StewardServerOptions {
  host: SupervisorHost;
  tokens: TokenTable;
  metrics: ServerMetrics;
  log?: Logger;
  /** 0 picks a free port. */
  port: number;
  hostname: string;
  /** Browser origins allowed to open the WebSocket besides the server's own; `*` for any. */
  allowedOrigins?: readonly string[];
  maxBodyBytes?: number;
  /** Interval of WebSocket pings; a client that misses one pong is disconnected. */
  pingIntervalMs?: number;
  limits?: Partial<ConnectionLimits>;
  /** The hosted machines, for `/machines` and the dashboard's diagrams; without it they 404. */
  registry?: MachineRegistry;
  /** Whether the runtime has its database (`/readyz`, `runtime.status`); default: it has. */
  availability?: Availability;
  /** Deletes finished supervisors (`DELETE /supervisors/:id`); without it that route 404s. */
  retention?: SupervisorDeletion;
  /**
   * When every runtime process started on this database, this one included
   * (`recordRuntimeStart`): a question asked before a start counts it in its
   * `deliveryCount`, so a restart does not take a count back to 1. Default: none.
   */
  runtimeStarts?: readonly Date[];
}

/** A listening server: HTTP API and WebSocket on one port. */
export interface StewardServer {
  /** `http://host:port` */
  readonly url: string;
  readonly port: number;
  /** Connected WebSocket clients. */
  clients(): number;
  /**
   * Replaces the tokens without a restart (a rotated tokens file): requests authenticate
   * against the new ones at once, and WebSocket connections whose token was removed or
   * whose grant changed are closed with 4401. A bad list throws and changes nothing.
   */
  replaceTokens(grants: readonly TokenGrant[]): { tokens: number; disconnected: number };
  /** Stops accepting, says goodbye to WebSocket clients (1001), closes the port. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_LIMITS: ConnectionLimits = {
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  softBufferBytes: 1024 * 1024,
  hardBufferBytes: 16 * 1024 * 1024,
  stallMs: 5_000,
  maxInFlight: 256,
  helloTimeoutMs: 10_000,
};

/**
 * Serves the HTTP API and the WebSocket protocol (`/ws`) on one port.
 *
 * @example
 * const server = await startServer({ host, tokens, metrics, port: 7420, hostname: '127.0.0.1' });
 * console.log(server.url);
 */
export async function startServer(options: StewardServerOptions): Promise<StewardServer> {
  const log = options.log ?? silentLogger;
  const availability = options.availability ?? createAvailability();
  let stopping = false;
  const app = createHttpApi({
    host: options.host,
    tokens: options.tokens,
    metrics: options.metrics,
    log,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    isStopping: () => stopping,
    availability,
    ...(options.registry ? { registry: options.registry } : {}),
    ...(options.retention ? { retention: options.retention } : {}),
  });
  const gateway = createWsGateway({
    host: options.host,
    tokens: options.tokens,
    metrics: options.metrics,
    log,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    allowedOrigins: options.allowedOrigins ?? [],
    pingIntervalMs: options.pingIntervalMs ?? 30_000,
    availability,
    runtimeStarts: options.runtimeStarts ?? [],
  });
  const server: Server = createServer(getRequestListener(app.fetch));
  server.on('upgrade', (request, socket, head) => gateway.handleUpgrade(request, socket, head));
  server.on('clientError', (error, socket) => {
    log.debug({ err: error }, 'malformed HTTP request');
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new StewardError(
              'ERR_PORT_IN_USE',
              `${options.hostname}:${options.port} is already in use (another Steward?); stop it or pick another port with --port or PORT`,
              { host: options.hostname, port: options.port },
            )
          : error,
      );
    server.once('error', failed);
    server.listen(options.port, options.hostname, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = options.hostname.includes(':') ? `[${options.hostname}]` : options.hostname;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    clients: () => gateway.clients(),
    replaceTokens(grants) {
      options.tokens.replace(grants);
      return { tokens: options.tokens.size, disconnected: gateway.revalidate() };
    },
    close() {
      closing ??= (async () => {
        stopping = true;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await gateway.close();
        server.closeIdleConnections();
        await closed;
      })();
      return closing;
    },
  };
}
