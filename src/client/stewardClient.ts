import { TERMINAL_STATES } from '../model/supervisor.ts';
import type { ClientFrame, QuestionAskedFrame, ServerFrame } from '../protocol/frames.ts';
import { type BackoffPolicy, DEFAULT_BACKOFF } from './backoff.ts';
import { StewardClientError } from './clientError.ts';
import { createClientEvents, type StewardClientEvents } from './clientEvents.ts';
import { type ClientLog, silentClientLog } from './clientLog.ts';
import { type ClientIdentity, openClientSocket } from './clientSocket.ts';
import { type AnswerAck, createPendingAnswers } from './pendingAnswers.ts';
import { createQuestionInbox } from './questionInbox.ts';
import { withScheme } from './serverUrl.ts';
import { createSubscriptionSet, type SubscribeTarget } from './subscriptionSet.ts';

/** Options of `createStewardClient`. */
export interface StewardClientOptions {
  /** The server: `http://127.0.0.1:7420` (the WebSocket path `/ws` is added) or a `ws://…/ws` URL. */
  url: string;
  token: string;
  /** Subscriptions to make at once (each is re-sent after every reconnect). */
  subscribe?: SubscribeTarget | readonly SubscribeTarget[];
  /** Waits between reconnection attempts: doubling from `initialMs` up to `maxMs`, jittered. */
  reconnect?: Partial<BackoffPolicy>;
  /** Interval of `ping` frames; a connection silent for a whole interval is dropped. Default 15 s. */
  heartbeatMs?: number;
  /** How long `answer()` keeps trying before ERR_TIMEOUT. Default 60 s; `Infinity` for ever. */
  answerTimeoutMs?: number;
  /**
   * `header` (default): `Authorization: Bearer` on the upgrade. `hello`: the token in a
   * first frame, as browsers must.
   */
  auth?: 'header' | 'hello';
  log?: ClientLog;
}

/**
 * A connection to a Steward server that survives drops: it reconnects with backoff,
 * re-subscribes, and re-sends unacknowledged answers.
 */
export interface StewardClient {
  /**
   * Resolves once authenticated (at once when already). Connecting starts when the client is
   * created and retries through network errors; it rejects only for good: ERR_UNAUTHENTICATED
   * (bad token, not retried), ERR_ROUTE_NOT_FOUND, ERR_CLIENT_CLOSED.
   */
  connect(): Promise<void>;
  /**
   * Asks for the questions and status of some supervisors, now and after every reconnect.
   * Resolves with the number of pending questions the server sent with it; rejects when
   * refused (ERR_FORBIDDEN for another owner's supervisors), and is then forgotten.
   */
  subscribe(target: SubscribeTarget): Promise<{ pendingQuestions: number }>;
  /**
   * Takes back a subscription made with the same target: it is not re-sent after a
   * reconnect, and once this resolves the server sends nothing more for what no other
   * subscription covers (ids named by another id subscription stay). A `subscribe` of the
   * same target still waiting rejects with ERR_UNSUBSCRIBED.
   */
  unsubscribe(target: SubscribeTarget): Promise<void>;
  /**
   * The questions asked of this client, each once: a question sent again (after a reconnect
   * or a server restore) is not yielded again while it is pending, and one resolved before
   * it was taken is skipped. Loops share one queue: each question goes to one of them. Ends
   * when the client is closed.
   */
  questions(): AsyncIterable<QuestionAskedFrame>;
  /**
   * Answers a question; resolves once the server has committed it. When the connection drops
   * first, or the server says not yet (ERR_COMMIT_IN_DOUBT, ERR_DATABASE_UNAVAILABLE,
   * ERR_NOT_DURABLE, ERR_RUNTIME_STOPPED, ERR_INTERNAL),
   * the same answer is sent again after reconnecting until acknowledged. That is safe: the
   * server applies one answer per question and acknowledges a repeat of the same value with
   * `duplicate: true`. Rejects with the server's code when refused (ERR_QUESTION_NOT_PENDING,
   * ERR_ANSWER_INVALID, ERR_FORBIDDEN, …), ERR_TIMEOUT, or ERR_CLIENT_CLOSED; with
   * ERR_ALREADY_ANSWERED when another value was answered first, `error.recorded` says which.
   */
  answer(
    supervisorId: string,
    questionId: string,
    value: unknown,
    options?: { timeoutMs?: number },
  ): Promise<AnswerAck>;
  /** Status changes, resolutions and connection changes. */
  readonly events: StewardClientEvents;
  /** True while authenticated on an open connection. */
  readonly connected: boolean;
  /** Closes the connection for good; pending calls reject with ERR_CLIENT_CLOSED. Idempotent. */
  close(): Promise<void>;
}

const WS_SCHEMES = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' };

/** The WebSocket URL of a server given by its HTTP base URL or its WebSocket URL. */
export function webSocketUrl(url: string): string {
  const parsed = withScheme(url, WS_SCHEMES);
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/ws';
  return parsed.toString();
}

const closedError = () => new StewardClientError('ERR_CLIENT_CLOSED', 'the client was closed');

/**
 * Connects to a Steward server and keeps connected until `close()`.
 *
 * @example
 * const client = createStewardClient({ url: 'http://127.0.0.1:7420', token, subscribe: { all: true } });
 * for await (const question of client.questions()) {
 *   if (question.answer.kind === 'confirm') {
 *     const ack = await client.answer(question.supervisorId, question.questionId, true);
 *     console.log(`answered at version ${ack.version}`);
 *   }
 * }
 */
export function createStewardClient(options: StewardClientOptions): StewardClient {
  const url = webSocketUrl(options.url);
  const log = options.log ?? silentClientLog;
  const backoff: BackoffPolicy = { ...DEFAULT_BACKOFF, ...options.reconnect };
  const answerTimeoutMs = options.answerTimeoutMs ?? 60_000;
  const events = createClientEvents(log);
  const inbox = createQuestionInbox();
  /** Newest status version per supervisor, to drop stale status frames. */
  const statusVersions = new Map<string, number>();
  let failure: StewardClientError | undefined;
  let readyWaiters: Array<{ resolve(): void; reject(error: StewardClientError): void }> = [];

  const send = (frame: ClientFrame) => socket.send(frame);
  const answers = createPendingAnswers({ send, backoff, log });
  const subscriptions = createSubscriptionSet({ send, backoff, log });

  function onReady(identity: ClientIdentity): void {
    log.info({ url, owner: identity.owner, admin: identity.admin }, 'steward client: connected');
    // Answers first: a question answered now is not among the pending ones re-sent next.
    answers.sendWaiting();
    subscriptions.sendAll();
    const waiters = readyWaiters;
    readyWaiters = [];
    for (const waiter of waiters) waiter.resolve();
    events.emit('connected', identity);
  }

  function onFrame(frame: ServerFrame): void {
    if (answers.onReply(frame) || subscriptions.onReply(frame)) return;
    switch (frame.type) {
      case 'question.asked':
        inbox.offer(frame);
        if (frame.reminder || frame.escalated) events.emit('followUp', frame);
        return;
      case 'question.resolved':
        if (inbox.resolve(frame)) events.emit('resolved', frame);
        return;
      case 'supervisor.status': {
        if ((statusVersions.get(frame.supervisorId) ?? -1) >= frame.version) return;
        // A finished supervisor sends nothing more: its entry would only take memory.
        if (TERMINAL_STATES.includes(frame.state)) statusVersions.delete(frame.supervisorId);
        else statusVersions.set(frame.supervisorId, frame.version);
        events.emit('status', frame);
        return;
      }
      case 'runtime.status':
        log.info(
          { database: frame.database, since: frame.since },
          'steward client: runtime status',
        );
        events.emit('runtime', frame);
        return;
      case 'error':
        log.warn(
          { code: frame.code, requestId: frame.requestId },
          `steward client: ${frame.message}`,
        );
        return;
      default:
        log.debug({ type: frame.type }, 'steward client: unexpected frame ignored');
    }
  }

  /** Ends the client: after close() or a refusal. */
  function shutDown(error: StewardClientError): void {
    if (failure) return;
    failure = error;
    answers.rejectAll(error);
    subscriptions.rejectAll(error);
    inbox.end();
    const waiters = readyWaiters;
    readyWaiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }

  const socket = openClientSocket({
    url,
    token: options.token,
    auth: options.auth ?? 'header',
    backoff,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    log,
    onReady,
    onFrame,
    onLost(loss) {
      answers.connectionLost();
      subscriptions.connectionLost();
      events.emit('disconnected', { ...loss, willReconnect: true });
    },
    onRefused(error, loss) {
      shutDown(error);
      events.emit('disconnected', { ...loss, willReconnect: false });
    },
  });

  const initial = options.subscribe === undefined ? [] : [options.subscribe].flat();
  for (const target of initial) {
    subscriptions.add(target).catch((error: unknown) => {
      log.error({ err: error, target }, 'steward client: initial subscription refused');
    });
  }

  return {
    connect() {
      if (failure) return Promise.reject(failure);
      if (socket.ready) return Promise.resolve();
      return new Promise((resolve, reject) => readyWaiters.push({ resolve, reject }));
    },
    async subscribe(target) {
      if (failure) throw failure;
      return { pendingQuestions: await subscriptions.add(target) };
    },
    unsubscribe(target) {
      if (failure) return Promise.reject(failure);
      return subscriptions.remove(target);
    },
    questions() {
      return { [Symbol.asyncIterator]: () => inbox.iterate() };
    },
    answer(supervisorId, questionId, value, callOptions) {
      if (failure) return Promise.reject(failure);
      return answers.add(
        supervisorId,
        questionId,
        value,
        callOptions?.timeoutMs ?? answerTimeoutMs,
      );
    },
    events,
    get connected() {
      return socket.ready;
    },
    async close() {
      const wasOpen = failure === undefined;
      shutDown(closedError());
      await socket.close();
      if (wasOpen)
        events.emit('disconnected', { code: 1000, reason: 'client closed', willReconnect: false });
    },
  };
}
