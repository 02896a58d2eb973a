// The WebSocket of the page: authenticates with a `hello` frame (a browser cannot set an
// Authorization header on a WebSocket), subscribes to every supervisor the token may see,
// and reconnects with backoff when the connection drops. On each new connection the server
// sends every pending question again, then `subscribed`.

const PROTOCOL = 1;
/** Close code the server uses for a refused token: reconnecting would not help. */
const CLOSE_UNAUTHENTICATED = 4401;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 10_000;
/** A connection that answers no ping within this long is taken for dead and replaced. */
const PING_EVERY_MS = 20_000;
const PONG_WITHIN_MS = 10_000;
/** A subscription refused for now (the runtime lost its database) is asked again after. */
const RESUBSCRIBE_MS = 1_000;

/**
 * Opens the socket. `onFrame` gets every server frame; `onState` gets `connecting`,
 * `subscribing`, `live`, `reconnecting` (with the delay in ms) or `refused`; `onSubscribe`
 * runs before each subscription is sent and `onSubscribed` once its pending questions are in.
 */
export function createSocket({ token, onFrame, onState, onSubscribe, onSubscribed }) {
  let ws = null;
  let attempt = 0;
  let stopped = false;
  let retryTimer;
  let pingTimer;
  let pongTimer;
  let sequence = 0;
  /** The request id of the subscription in progress. */
  let subscribing = null;
  let resubscribeTimer;
  /** Answers sent and not yet acknowledged, by request id. */
  const waiting = new Map();

  const nextId = (prefix) => `${prefix}-${++sequence}`;

  function send(frame) {
    if (ws?.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  function connect() {
    onState('connecting');
    const url = new URL('/ws', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url);
    ws = socket;
    socket.addEventListener('open', () => {
      send({ type: 'hello', requestId: nextId('hello'), token, protocol: PROTOCOL });
    });
    socket.addEventListener('message', (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      handle(frame);
    });
    socket.addEventListener('close', (event) => {
      if (ws !== socket) return;
      ws = null;
      clearInterval(pingTimer);
      clearTimeout(pongTimer);
      // The answer may or may not have been committed: the person sees it failed and may
      // answer again, which the server applies at most once.
      for (const { reject } of waiting.values()) {
        reject({ code: 'ERR_DISCONNECTED', message: 'the connection dropped before the ack' });
      }
      waiting.clear();
      if (event.code === CLOSE_UNAUTHENTICATED) {
        stopped = true;
        onState('refused');
        return;
      }
      if (!stopped) retry();
    });
  }

  function retry() {
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** attempt);
    // Jitter, so a restarted server is not met by every page at the same instant.
    const delay = Math.round(ceiling * (0.5 + Math.random() / 2));
    attempt++;
    onState('reconnecting', delay);
    retryTimer = setTimeout(connect, delay);
  }

  function startPings() {
    clearInterval(pingTimer);
    pingTimer = setInterval(() => {
      if (!send({ type: 'ping', requestId: nextId('ping') })) return;
      clearTimeout(pongTimer);
      pongTimer = setTimeout(() => ws?.close(4000, 'no pong'), PONG_WITHIN_MS);
    }, PING_EVERY_MS);
  }

  function subscribe() {
    onSubscribe();
    subscribing = nextId('subscribe');
    send({ type: 'subscribe', requestId: subscribing, all: true });
    onState('subscribing');
  }

  function handle(frame) {
    switch (frame.type) {
      case 'hello.ok':
        subscribe();
        startPings();
        break;
      case 'subscribed':
        attempt = 0;
        onSubscribed();
        onState('live');
        break;
      case 'pong':
        clearTimeout(pongTimer);
        break;
      case 'answer.ack':
        waiting.get(frame.requestId)?.resolve(frame);
        waiting.delete(frame.requestId);
        break;
      case 'error':
        // Refused while the runtime has no database: ask again until it has it back.
        if (frame.requestId === subscribing) {
          clearTimeout(resubscribeTimer);
          resubscribeTimer = setTimeout(() => {
            if (ws?.readyState === WebSocket.OPEN) subscribe();
          }, RESUBSCRIBE_MS);
        }
        if (waiting.has(frame.requestId)) {
          waiting.get(frame.requestId).reject(frame);
          waiting.delete(frame.requestId);
        }
        break;
    }
    onFrame(frame);
  }

  connect();

  return {
    /**
     * Answers a question; resolves with the `answer.ack` frame (sent after the commit),
     * rejects with `{ code, message }` from an `error` frame or a dropped connection.
     */
    answer(supervisorId, questionId, value) {
      const requestId = nextId('answer');
      return new Promise((resolve, reject) => {
        if (!send({ type: 'answer', requestId, supervisorId, questionId, value })) {
          reject({ code: 'ERR_DISCONNECTED', message: 'not connected; try again in a moment' });
          return;
        }
        waiting.set(requestId, { resolve, reject });
      });
    },
    /** Closes for good: no reconnect. */
    close() {
      stopped = true;
      clearTimeout(retryTimer);
      clearInterval(pingTimer);
      clearTimeout(pongTimer);
      ws?.close(1000, 'page closed');
    },
  };
}
