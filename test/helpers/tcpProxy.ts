import { connect, createServer, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback in front of PostgreSQL that a test can cut and restore, to
 * play a database outage without touching the shared server; or in front of a runtime's
 * HTTP port, to lose its replies.
 */
export interface TcpProxy {
  port: number;
  /** Drops every open connection and refuses new ones until `restore()`. */
  cut(): void;
  restore(): void;
  /**
   * Every connection open now goes silently dead: it stays open, and nothing passes either
   * way (a NAT or firewall that forgot it, a database host failed over). New connections
   * work as before.
   */
  blackhole(): void;
  /**
   * From now on requests still reach the target but its replies are dropped, on the
   * connections open now and on new ones: the target did answer, the client never hears.
   */
  withholdReplies(): void;
  /**
   * On the connections open now, what the client sends is dropped while the target's
   * replies still pass: a client that closes (sends Terminate) keeps hearing the server.
   */
  holdRequests(): void;
  /** Connections open now, both sides counted once. */
  readonly connections: number;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  /** Blackholed: kept open, passing nothing, until the proxy closes. */
  const dead: Array<{ client: Socket; upstream: Socket }> = [];
  let down = false;
  let withholding = false;
  const withhold = ({ client, upstream }: { client: Socket; upstream: Socket }) => {
    upstream.unpipe(client);
    upstream.on('data', () => {});
  };
  /** Every connection accepted and not closed: the server's close waits for each. */
  const accepted = new Set<Socket>();
  const server = createServer((client) => {
    accepted.add(client);
    client.on('close', () => accepted.delete(client));
    if (down) {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    const pair = { client, upstream };
    pairs.add(pair);
    for (const socket of [client, upstream]) {
      socket.on('close', () => pairs.delete(pair));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
    if (withholding) withhold(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('proxy did not bind');
  const dropAll = () => {
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
  };
  return {
    port: address.port,
    cut() {
      down = true;
      dropAll();
    },
    restore() {
      down = false;
    },
    blackhole() {
      for (const pair of pairs) {
        const { client, upstream } = pair;
        client.unpipe(upstream);
        upstream.unpipe(client);
        // Read and drop: nothing reaches the other side, and nobody is told.
        client.on('data', () => {});
        upstream.on('data', () => {});
        pairs.delete(pair);
        dead.push(pair);
      }
    },
    holdRequests() {
      for (const { client, upstream } of pairs) {
        client.unpipe(upstream);
        client.on('data', () => {});
      }
    },
    withholdReplies() {
      withholding = true;
      for (const pair of pairs) withhold(pair);
    },
    get connections() {
      return pairs.size;
    },
    close() {
      down = true;
      dropAll();
      for (const { client, upstream } of dead) {
        client.destroy();
        upstream.destroy();
      }
      // A client whose upstream half closed while it held requests is out of `pairs`.
      for (const client of accepted) client.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
