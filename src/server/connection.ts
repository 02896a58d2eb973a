import type { WebSocket } from 'ws';
import { isStewardError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import {
  CLOSE_UNAUTHENTICATED,
  type ClientFrame,
  type ErrorFrame,
  PROTOCOL_VERSION,
  type ServerFrame,
  type SubscribeFrame,
  type UnsubscribeFrame,
} from '../protocol/frames.ts';
import { frameIssues, parseClientFrame } from '../protocol/parseFrame.ts';
import type { CommittedChange } from '../runtime/commit/committedChanges.ts';
import type { SupervisorHost } from '../runtime/supervisorHost.ts';
import { answerAs } from './answering.ts';
import type { Principal, TokenTable } from './auth.ts';
import type { Availability, RuntimeAvailability } from './availability.ts';
import type { ServerMetrics } from './metrics.ts';
import { createOutbound, type OutboundLimits } from './outbound.ts';
import { changeFrame, type DeliveryCounter, questionAskedFrame } from './questionFrames.ts';
import {
  addScope,
  emptySubscription,
  pendingQuestionsFor,
  removeScope,
  stillSubscribed,
  wants,
} from './subscriptions.ts';

/** Limits of one WebSocket connection. */
export interface ConnectionLimits extends OutboundLimits {
  /** Inbound frames over this many bytes are refused with an error frame. */
  maxFrameBytes: number;
  /** Requests (answers, subscriptions) in progress at once before reading pauses. */
  maxInFlight: number;
  /** How long an unauthenticated connection may take to send `hello`. */
  helloTimeoutMs: number;
}

/** What a connection needs from the server. */
export interface ConnectionDeps {
  host: SupervisorHost;
  tokens: TokenTable;
  deliveries: DeliveryCounter;
  metrics: ServerMetrics;
  log: Logger;
  limits: ConnectionLimits;
  /** Called once the connection knows whom it serves (at once, or after `hello`). */
  onAuthenticated(connection: Connection): void;
  availability: Availability;
}

/** One client connection: authentication, subscriptions, delivery with backpressure. */
export interface Connection {
  readonly principal: Principal | null;
  /** A committed change; sent when the client subscribed to it and may see it. */
  onChange(change: CommittedChange): void;
  /** Called by the heartbeat: ends a client that did not answer the last ping, pings again. */
  checkAlive(): void;
  /** The runtime lost or regained its database: told to an authenticated client. */
  onAvailability(status: RuntimeAvailability): void;
  /**
   * After the tokens changed: closes the connection (4401) when its token was removed or
   * its grant changed, and says so with false. A client with a still valid token reconnects.
   */
  revalidate(): boolean;
}

/**
 * Serves one WebSocket. Every inbound frame is parsed by the protocol schema; a bad one gets
 * an error frame and changes nothing. Outbound frames are counted until the socket has
 * written them: past the soft limit status frames are coalesced per supervisor and reading
 * stops, past the hard limit the client is dropped (it reconnects and gets every pending
 * question again), so a slow client costs bounded memory.
 */
export function serveConnection(
  socket: WebSocket,
  authenticated: Principal | null,
  deps: ConnectionDeps,
): Connection {
  const { host, deliveries, metrics, log, limits } = deps;
  let principal = authenticated;
  const subscription = emptySubscription();
  /** The newest version of each supervisor sent, to skip stale rows of a subscription load. */
  const newestSent = new Map<string, number>();
  let inFlight = 0;
  let alive = true;
  let closed = false;
  const outbound = createOutbound(socket, limits, {
    onDrained: () => updateReading(),
    onTooSlow(unsentBytes) {
      log.warn({ client: principal?.label, unsentBytes }, 'client too slow: dropped');
      metrics.slowClientsDropped.inc();
      closed = true;
    },
  });

  const helloTimer = principal
    ? undefined
    : setTimeout(() => {
        if (!principal) socket.close(CLOSE_UNAUTHENTICATED, 'no hello with a valid token');
      }, limits.helloTimeoutMs);

  function noteVersion(frame: ServerFrame): void {
    if (!('supervisorId' in frame)) return;
    const newest = newestSent.get(frame.supervisorId) ?? 0;
    newestSent.set(frame.supervisorId, Math.max(newest, frame.version));
  }

  function send(frame: ServerFrame): void {
    noteVersion(frame);
    outbound.send(frame);
    updateReading();
  }

  function updateReading(): void {
    if (closed) return;
    const busy = inFlight >= limits.maxInFlight || outbound.pressed;
    if (busy && !socket.isPaused) socket.pause();
    if (!busy && socket.isPaused) socket.resume();
  }

  function sendQuestion(
    supervisorId: string,
    version: number,
    question: Parameters<typeof questionAskedFrame>[2],
    followUp?: Parameters<typeof questionAskedFrame>[4],
  ): void {
    if (!principal) return;
    const count = deliveries.next(principal.label, supervisorId, question);
    send(questionAskedFrame(supervisorId, version, question, count, followUp));
    metrics.questionsDelivered.inc();
  }

  function fail(requestId: string | null, error: unknown): void {
    if (isStewardError(error)) {
      const { issues, recorded } = error.details as Pick<ErrorFrame, 'issues' | 'recorded'>;
      send({
        type: 'error',
        requestId,
        code: error.code,
        message: error.message,
        ...(Array.isArray(issues) ? { issues: frameIssues(issues) } : {}),
        ...(recorded === undefined ? {} : { recorded }),
      });
      return;
    }
    log.error({ err: error, client: principal?.label }, 'request failed unexpectedly');
    send({
      type: 'error',
      requestId,
      code: 'ERR_INTERNAL',
      message: 'the request failed unexpectedly; it is safe to send it again',
    });
  }

  async function subscribe(who: Principal, frame: SubscribeFrame): Promise<void> {
    if (frame.owner !== undefined && !who.admin && frame.owner !== who.owner) {
      send({
        type: 'error',
        requestId: frame.requestId,
        code: 'ERR_FORBIDDEN',
        message: `this token may not subscribe to the supervisors of ${JSON.stringify(frame.owner)}`,
      });
      return;
    }
    addScope(subscription, frame);
    let count = 0;
    for await (const page of pendingQuestionsFor(host, who, frame)) {
      for (const entry of page) {
        // A newer frame already went out live: this row is older than what the client knows.
        if ((newestSent.get(entry.supervisorId) ?? 0) > entry.version) continue;
        if (!stillSubscribed(subscription, frame, entry.supervisorId)) continue;
        sendQuestion(entry.supervisorId, entry.version, entry.question);
        count++;
      }
      await outbound.writable();
      if (closed) return;
    }
    send({ type: 'subscribed', requestId: frame.requestId, pendingQuestions: count });
  }

  function unsubscribe(frame: UnsubscribeFrame): void {
    removeScope(subscription, frame);
    for (const { supervisorId, owner } of outbound.parked()) {
      if (principal && !wants(subscription, principal, supervisorId, owner)) {
        outbound.forget(supervisorId);
      }
    }
    send({ type: 'unsubscribed', requestId: frame.requestId });
  }

  async function answer(
    who: Principal,
    frame: Extract<ClientFrame, { type: 'answer' }>,
  ): Promise<void> {
    const outcome = await answerAs(
      host,
      metrics,
      who,
      frame.supervisorId,
      frame.questionId,
      frame.value,
      frame.requestId,
    );
    send({
      type: 'answer.ack',
      requestId: frame.requestId,
      supervisorId: frame.supervisorId,
      version: outcome.version,
      questionId: frame.questionId,
      duplicate: outcome.duplicate,
    });
  }

  function authenticate(frame: Extract<ClientFrame, { type: 'hello' }>): void {
    if (principal) {
      send({
        type: 'error',
        requestId: frame.requestId,
        code: 'ERR_MESSAGE_INVALID',
        message: 'this connection is already authenticated',
      });
      return;
    }
    const found = deps.tokens.authenticate(frame.token);
    if (!found) {
      metrics.authFailures.inc();
      send({
        type: 'error',
        requestId: frame.requestId,
        code: 'ERR_UNAUTHENTICATED',
        message: 'the token is not valid',
      });
      socket.close(CLOSE_UNAUTHENTICATED, 'invalid token');
      return;
    }
    principal = found;
    clearTimeout(helloTimer);
    deps.onAuthenticated(connection);
    greet(frame.requestId, found);
  }

  function greet(requestId: string | null, who: Principal): void {
    send({
      type: 'hello.ok',
      requestId,
      protocol: PROTOCOL_VERSION,
      owner: who.owner,
      admin: who.admin,
    });
    const status = deps.availability.current();
    if (status.database === 'unavailable') send({ type: 'runtime.status', ...status });
  }

  function onFrame(frame: ClientFrame): void {
    if (frame.type === 'hello') {
      authenticate(frame);
      return;
    }
    if (frame.type === 'ping') {
      send({ type: 'pong', requestId: frame.requestId });
      return;
    }
    const who = principal;
    if (!who) {
      send({
        type: 'error',
        requestId: frame.requestId,
        code: 'ERR_UNAUTHENTICATED',
        message: 'send hello with a token first',
      });
      return;
    }
    if (frame.type === 'unsubscribe') {
      unsubscribe(frame);
      return;
    }
    inFlight++;
    updateReading();
    const work = frame.type === 'subscribe' ? subscribe(who, frame) : answer(who, frame);
    work
      .catch((error: unknown) => fail(frame.requestId, error))
      .finally(() => {
        inFlight--;
        updateReading();
      });
  }

  socket.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    const raw = Buffer.isBuffer(data)
      ? data
      : Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.from(data);
    const parsed = parseClientFrame(raw, limits.maxFrameBytes);
    if (!parsed.ok) {
      metrics.badFrames.inc({ code: parsed.error.code });
      send(parsed.error);
      return;
    }
    onFrame(parsed.frame);
  });
  socket.on('pong', () => {
    alive = true;
  });
  socket.on('close', () => {
    closed = true;
    clearTimeout(helloTimer);
    outbound.close();
  });
  socket.on('error', (error) => log.debug({ err: error }, 'websocket error'));

  if (principal) greet(null, principal);

  const connection: Connection = {
    get principal() {
      return principal;
    },
    onChange(change) {
      if (
        !principal ||
        closed ||
        !wants(subscription, principal, change.supervisorId, change.owner)
      )
        return;
      if (change.type === 'question.asked') {
        sendQuestion(change.supervisorId, change.version, change.question, change.followUp);
        return;
      }
      if (change.type === 'supervisor.finished') {
        newestSent.delete(change.supervisorId);
        outbound.forget(change.supervisorId);
        return;
      }
      const frame = changeFrame(change);
      if (frame?.type === 'supervisor.status') {
        noteVersion(frame);
        outbound.sendStatus(frame, change.owner);
      } else if (frame) send(frame);
    },
    revalidate() {
      if (!principal || closed || deps.tokens.holds(principal)) return true;
      log.info({ client: principal.label }, 'token revoked or changed: connection closed');
      closed = true;
      socket.close(CLOSE_UNAUTHENTICATED, 'token revoked or changed');
      return false;
    },
    onAvailability(status) {
      if (principal && !closed) send({ type: 'runtime.status', ...status });
    },
    checkAlive() {
      if (!alive) {
        socket.terminate();
        return;
      }
      alive = false;
      socket.ping();
    },
  };
  if (principal) deps.onAuthenticated(connection);
  return connection;
}
