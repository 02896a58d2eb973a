import WebSocket from 'ws';
import type { ServerFrame } from '../../src/protocol/frames.ts';

/** A raw protocol client for tests: every frame kept, requests matched by request id. */
export interface TestClient {
  ws: WebSocket;
  frames: ServerFrame[];
  send(frame: unknown): void;
  /** Sends a frame with a fresh request id; resolves with the reply carrying that id. */
  request(frame: Record<string, unknown>, timeoutMs?: number): Promise<ServerFrame>;
  /** The first frame (already received or coming) that matches. */
  waitFor(match: (frame: ServerFrame) => boolean, timeoutMs?: number): Promise<ServerFrame>;
  /** Resolves with the close code once the server closes the connection. */
  closed: Promise<number>;
  close(): Promise<void>;
}

let requests = 0;

/** Opens a connection; with a token it goes in the upgrade's Authorization header. */
export function openTestClient(
  url: string,
  options: { token?: string; headers?: Record<string, string> } = {},
): Promise<TestClient> {
  const headers = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const ws = new WebSocket(url, { headers });
  const frames: ServerFrame[] = [];
  const watchers = new Set<(frame: ServerFrame) => void>();
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data)) as ServerFrame;
    frames.push(frame);
    for (const watch of watchers) watch(frame);
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));

  function waitFor(match: (frame: ServerFrame) => boolean, timeoutMs = 10_000) {
    const seen = frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<ServerFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        watchers.delete(watch);
        reject(
          new Error(
            `no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames.slice(-5))}`,
          ),
        );
      }, timeoutMs);
      const watch = (frame: ServerFrame) => {
        if (!match(frame)) return;
        clearTimeout(timer);
        watchers.delete(watch);
        resolve(frame);
      };
      watchers.add(watch);
    });
  }

  const client: TestClient = {
    ws,
    frames,
    send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    request(frame, timeoutMs) {
      const requestId = `t${++requests}`;
      ws.send(JSON.stringify({ ...frame, requestId }));
      return waitFor((f) => 'requestId' in f && f.requestId === requestId, timeoutMs);
    },
    waitFor,
    closed,
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return;
      ws.close();
      await closed;
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_request, response) =>
      reject(
        Object.assign(new Error(`upgrade refused: ${response.statusCode}`), {
          status: response.statusCode,
        }),
      ),
    );
    ws.once('error', reject);
  });
}
