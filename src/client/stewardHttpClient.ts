import type { z } from 'zod';
import type { LifecycleState } from '../model/supervisor.ts';
import type { CreateSupervisorBody, FleetQuery } from '../protocol/http.ts';
import {
  AnswerResult,
  Committed,
  Created,
  Deleted,
  ErrorResponse,
  JournalPage,
  QuestionList,
  Resumed,
  Retried,
  SupervisorDetail,
  SupervisorList,
} from '../protocol/httpResponses.ts';
import { StewardClientError } from './clientError.ts';
import { withScheme } from './serverUrl.ts';

/** Options of `createStewardHttpClient`: those of `createStewardClient` do. */
export interface StewardHttpClientOptions {
  /**
   * The server, as `createStewardClient` takes it: `http://127.0.0.1:7420`, or its WebSocket
   * URL `ws://127.0.0.1:7420/ws` (`ws` becomes `http`, `wss` `https`, the `/ws` is dropped).
   */
  url: string;
  token: string;
  /** The HTTP base URL, when it is not the one `url` implies (a proxy routing apart). */
  httpUrl?: string;
}

/** The fleet filters of `GET /supervisors` and `GET /questions`. */
export type FleetFilters = Omit<FleetQuery, 'state'> & {
  /** One lifecycle state, or any of several. */
  state?: LifecycleState | readonly LifecycleState[];
};

/** `supervisors.create`: what `POST /supervisors` takes. */
export type CreateSupervisorRequest = z.input<typeof CreateSupervisorBody>;

/**
 * The HTTP API, typed: each method resolves with the route's JSON body, validated by the
 * same schema the OpenAPI document (`GET /openapi.json`) shows, and rejects with a
 * `StewardClientError` carrying the server's `code`, `message`, `details` and HTTP
 * `status` (ERR_SUPERVISOR_NOT_FOUND 404, ERR_FORBIDDEN 403, ERR_MESSAGE_INVALID 400, …),
 * ERR_NETWORK when no response came, ERR_RESPONSE_INVALID when one came that does not fit.
 * Nothing is retried by itself: a command that got no response may have been applied.
 */
/**
 * Options of a command: with `idempotencyKey` (sent as `Idempotency-Key`), a repeat of the
 * same request within 24 h answers the first reply and applies nothing, so a command that
 * got no response can be sent again safely; the same key with another request is
 * `ERR_IDEMPOTENCY_KEY_REUSED` (422).
 *
 * @example
 * const key = crypto.randomUUID();
 * await http.supervisors.send(id, { type: 'go' }, { idempotencyKey: key });
 * await http.supervisors.send(id, { type: 'go' }, { idempotencyKey: key }); // the same reply, sent once
 */
export interface CommandRequestOptions {
  idempotencyKey?: string;
}

export interface StewardHttpClient {
  /** The base URL requests go to, e.g. `http://127.0.0.1:7420`. */
  readonly url: string;
  readonly supervisors: {
    /** `POST /supervisors`: resolves once its first snapshot has committed. */
    create(request: CreateSupervisorRequest, options?: CommandRequestOptions): Promise<Created>;
    /** `GET /supervisors?…`: only the token's own supervisors, unless it is an admin's. */
    list(filters?: FleetFilters): Promise<SupervisorList>;
    /** `GET /supervisors/:id`: with its pending questions and newest 50 journal entries. */
    get(id: string): Promise<SupervisorDetail>;
    /** `POST /supervisors/:id/events`: resolves once the snapshot it produced has committed. */
    send(
      id: string,
      event: { type: string; [field: string]: unknown },
      options?: CommandRequestOptions,
    ): Promise<Committed>;
    /** `POST /supervisors/:id/questions/:questionId/answer`: a repeat of the same value is a duplicate. */
    answer(id: string, questionId: string, value: unknown): Promise<AnswerResult>;
    pause(id: string, options?: CommandRequestOptions): Promise<Committed>;
    /** `POST /supervisors/:id/resume`: restores one not in memory, unpauses a paused one. */
    resume(id: string, options?: CommandRequestOptions): Promise<Resumed>;
    cancel(id: string, reason?: string, options?: CommandRequestOptions): Promise<Committed>;
    /** `DELETE /supervisors/:id` (admin token): a finished supervisor and its journal. */
    delete(id: string): Promise<Deleted>;
    /** `GET /supervisors/:id/journal?before=&limit=`: a page of the journal, going back. */
    journal(id: string, page?: { before?: number; limit?: number }): Promise<JournalPage>;
    /** `POST /supervisors/:id/retry`: a failed or cancelled supervisor back at work. */
    retry(id: string, options?: { reason?: string } & CommandRequestOptions): Promise<Retried>;
  };
  readonly questions: {
    /** `GET /questions?…`: pending questions across the fleet the token may see. */
    list(filters?: FleetFilters): Promise<QuestionList>;
  };
}

const HTTP_SCHEMES = { 'http:': 'http:', 'https:': 'https:', 'ws:': 'http:', 'wss:': 'https:' };

/** The HTTP base URL of a server given by its HTTP base URL or its WebSocket URL. */
export function httpBaseUrl(url: string): string {
  const parsed = withScheme(url, HTTP_SCHEMES);
  const path = parsed.pathname.replace(/\/ws\/?$/, '').replace(/\/$/, '');
  return `${parsed.origin}${path}`;
}

/** `?a=1&b=x,y` of the filters that are set. */
function queryString(filters: Record<string, unknown>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) {
    if (value === undefined) continue;
    query.set(name, Array.isArray(value) ? value.join(',') : String(value));
  }
  const text = query.toString();
  return text === '' ? '' : `?${text}`;
}

/** The error an HTTP error response describes. */
function refusal(what: string, status: number, body: unknown): StewardClientError {
  const parsed = ErrorResponse.safeParse(body);
  if (!parsed.success) {
    return new StewardClientError(
      'ERR_RESPONSE_INVALID',
      `${what}: HTTP ${status} without a Steward error body`,
      { status },
    );
  }
  const { code, message, details, recorded } = parsed.data.error;
  // The server puts zod's issues in `details`; a frame carries them beside it.
  const issues = Array.isArray(details.issues)
    ? (details.issues as StewardClientError['issues'])
    : [];
  return new StewardClientError(code, message, { issues, recorded, details, status });
}

/**
 * A typed client of the HTTP API, with the same URL and token as the WebSocket client.
 *
 * @example
 * const http = createStewardHttpClient({ url: 'http://127.0.0.1:7420', token });
 * const { id } = await http.supervisors.create({ machineId: 'reference', input: { goal: 'ship', steps: [] } });
 * const { supervisor } = await http.supervisors.get(id);
 * try {
 *   await http.supervisors.pause(crypto.randomUUID());
 * } catch (error) {
 *   if (isStewardClientError(error, 'ERR_SUPERVISOR_NOT_FOUND')) console.log(error.status); // 404
 * }
 */
export function createStewardHttpClient(options: StewardHttpClientOptions): StewardHttpClient {
  const base = httpBaseUrl(options.httpUrl ?? options.url);
  const authorization = `Bearer ${options.token}`;

  async function call<S extends z.ZodType>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    schema: S,
    body?: unknown,
    commandOptions: CommandRequestOptions = {},
  ): Promise<z.infer<S>> {
    const what = `${method} ${path}`;
    let status: number;
    let text: string;
    try {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(commandOptions.idempotencyKey === undefined
            ? {}
            : { 'idempotency-key': commandOptions.idempotencyKey }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      const reason = error instanceof Error ? (error.cause ?? error) : error;
      throw new StewardClientError(
        'ERR_NETWORK',
        `${what}: no response from ${base} (${reason instanceof Error ? reason.message : String(reason)})`,
      );
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new StewardClientError('ERR_RESPONSE_INVALID', `${what}: HTTP ${status}, not JSON`, {
        status,
      });
    }
    if (status >= 400) throw refusal(what, status, value);
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      const { issues } = parsed.error;
      throw new StewardClientError(
        'ERR_RESPONSE_INVALID',
        `${what}: the response does not fit: ${issues[0]?.path.join('.')} ${issues[0]?.message}`,
        { status, details: { issues } },
      );
    }
    return parsed.data;
  }

  const at = (id: string, rest = '') => `/supervisors/${encodeURIComponent(id)}${rest}`;

  return {
    url: base,
    supervisors: {
      create: (request, keyed) => call('POST', '/supervisors', Created, request, keyed),
      list: (filters = {}) => call('GET', `/supervisors${queryString(filters)}`, SupervisorList),
      get: (id) => call('GET', at(id), SupervisorDetail),
      send: (id, event, keyed) => call('POST', at(id, '/events'), Committed, event, keyed),
      answer: (id, questionId, value) =>
        call('POST', at(id, `/questions/${encodeURIComponent(questionId)}/answer`), AnswerResult, {
          value,
        }),
      pause: (id, keyed) => call('POST', at(id, '/pause'), Committed, undefined, keyed),
      resume: (id, keyed) => call('POST', at(id, '/resume'), Resumed, undefined, keyed),
      cancel: (id, reason, keyed) =>
        call('POST', at(id, '/cancel'), Committed, reason === undefined ? {} : { reason }, keyed),
      delete: (id) => call('DELETE', at(id), Deleted),
      journal: (id, page = {}) => call('GET', at(id, `/journal${queryString(page)}`), JournalPage),
      retry: (id, { idempotencyKey, ...retryBody } = {}) =>
        call('POST', at(id, '/retry'), Retried, retryBody, {
          ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
        }),
    },
    questions: {
      list: (filters = {}) => call('GET', `/questions${queryString(filters)}`, QuestionList),
    },
  };
}
