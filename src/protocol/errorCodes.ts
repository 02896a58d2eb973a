/**
 * Every error code Steward reports, declared once with everything that depends on it:
 * who raises it, the HTTP status of a response that carries it, whether the typed client
 * retries it by itself, and the line `docs/protocol.md` shows for it (written there by
 * `npm run docs:errors`). Codes are stable API: they never change meaning, and a code once
 * released is never renamed; messages may be reworded.
 *
 * It lives with the protocol because codes are the wire's vocabulary (`error` frames, HTTP
 * error bodies), and the server, the client and `src/errors.ts` all read it from here.
 */

/**
 * Who raises a code: `server` (the runtime, its HTTP API and WebSocket, `steward serve` at
 * start), `client` (the typed client, `steward/client`, on its own) or `dashboard` (the
 * dashboard page in the browser, on its own).
 */
export type ErrorSource = 'server' | 'client' | 'dashboard';

/** What the registry says of one code. */
export interface ErrorCodeSpec {
  readonly source: ErrorSource;
  /**
   * The status of an HTTP response refused with this code; `null` where no response
   * carries it (start-up, WebSocket only, client, dashboard): it is then a 500.
   */
  readonly httpStatus: number | null;
  /**
   * "Not done, try again": the typed client re-sends a request refused with this code by
   * itself, with backoff, instead of rejecting the caller's promise.
   */
  readonly retryable: boolean;
  /** When the code is raised (one line of docs/protocol.md, markdown). */
  readonly when: string;
  /** What the caller should do about it (one line of docs/protocol.md, markdown). */
  readonly whatToDo: string;
}

const server = (httpStatus: number | null, retryable: boolean, when: string, whatToDo: string) =>
  ({ source: 'server', httpStatus, retryable, when, whatToDo }) as const;

const clientOnly = (when: string, whatToDo: string) =>
  ({ source: 'client', httpStatus: null, retryable: false, when, whatToDo }) as const;

const dashboardOnly = (when: string, whatToDo: string) =>
  ({ source: 'dashboard', httpStatus: null, retryable: false, when, whatToDo }) as const;

/**
 * The registry, in the order docs/protocol.md lists it.
 *
 * @example
 * ERROR_REGISTRY.ERR_QUESTION_NOT_PENDING.httpStatus; // 409
 * ERROR_REGISTRY.ERR_COMMIT_IN_DOUBT.retryable; // true
 */
export const ERROR_REGISTRY = Object.freeze({
  // `steward serve` at start
  ERR_CONFIG_INVALID: server(
    null,
    false,
    'an environment variable has a bad value (named in the message; the value is not echoed)',
    'fix the variable',
  ),
  ERR_PORT_IN_USE: server(
    null,
    false,
    '`steward serve` cannot listen: another process has the port',
    'stop it, or use `--port` / `PORT`',
  ),
  ERR_DATABASE_UNREACHABLE: server(
    null,
    false,
    'PostgreSQL does not answer at start (host and port named, never the password)',
    'start the server or fix `DATABASE_URL`',
  ),
  ERR_DATA_DIR_IN_USE: server(
    null,
    false,
    'another process (its pid named) has the PGlite data directory open; two would corrupt it',
    'stop it, or use another `--data-dir`',
  ),
  ERR_RUNTIME_ALREADY_RUNNING: server(
    null,
    false,
    'a runtime started with `--no-cluster` claims this PostgreSQL database alone, or nodes serve it and this one has cluster off',
    'stop it first, or run every runtime of the database as a node (cluster on, the default)',
  ),
  ERR_MIGRATION_CHECKSUM: server(
    null,
    false,
    'an applied migration file was edited',
    'restore the file; add a new migration instead',
  ),
  ERR_MIGRATION_FAILED: server(
    null,
    false,
    "a migration's SQL failed (rolled back with its ledger row) or a file is misnamed",
    'fix the migration',
  ),
  ERR_DATABASE_NEWER: server(
    null,
    false,
    'the database has migrations this Steward does not know',
    'run the newer Steward',
  ),
  // Machines and their input
  ERR_MACHINE_INVALID: server(
    422,
    false,
    'a machine cannot be hosted: a state with no or two lifecycle tags, inline invoked logic, a bad id or version, a duplicate registration',
    'fix the machine; the message names each state',
  ),
  ERR_MACHINE_NOT_REGISTERED: server(
    422,
    false,
    'no machine with that id (and version)',
    'register it',
  ),
  ERR_INPUT_INVALID: server(
    400,
    false,
    "the input of a new supervisor does not fit its machine's `input` schema (machine and first issue named, issues attached); nothing is stored",
    'send input that fits',
  ),
  // Supervisors, events and answers
  ERR_SUPERVISOR_NOT_FOUND: server(
    404,
    false,
    'no supervisor with that id; an id in a URL path or a host call that is not a UUID names none, so it is not found either',
    'check the id',
  ),
  ERR_SUPERVISOR_EXISTS: server(409, false, 'spawning with an id that is taken', 'use another id'),
  ERR_SUPERVISOR_TERMINATED: server(
    409,
    false,
    'the supervisor is completed, failed or cancelled (and takes no more events), or retrying one that completed',
    'nothing: it takes no more events; a failed or cancelled one can be retried (`POST /supervisors/:id/retry`)',
  ),
  ERR_SUPERVISOR_NOT_FINISHED: server(
    409,
    false,
    'deleting or retrying a supervisor that has not completed, failed or been cancelled (running, waiting, paused; `details.state` says which), or retrying one whose retry is under way',
    'cancel it first, or wait for it to finish',
  ),
  ERR_EVENT_INVALID: server(
    400,
    false,
    'an event (the body of `POST /supervisors/:id/events`, or `host.send`) is not an object with a string `type`, or its type is one only the runtime sends (issues attached); a body that is not JSON is `ERR_MESSAGE_INVALID`',
    'fix the event',
  ),
  ERR_EVENT_NOT_ACCEPTED: server(
    409,
    false,
    'the supervisor has no transition for the event in its current state (named)',
    'send it when the state takes it',
  ),
  ERR_QUESTION_NOT_PENDING: server(
    409,
    false,
    'the question was never asked, or was withdrawn',
    'nothing to answer',
  ),
  ERR_ALREADY_ANSWERED: server(
    409,
    false,
    'the question was already answered with another value (a repeat of the same value is acked as a duplicate); the error carries the answer that stands, `recorded { value, answeredBy, version }`; nothing changed',
    'nothing: the recorded answer stands (act on `recorded.value`)',
  ),
  ERR_QUESTION_EXPIRED: server(
    410,
    false,
    "the question's deadline passed before an answer: it was resolved `expired` (or is about to be, once the supervisor's state takes `question.expired`)",
    'nothing: the supervisor decides what follows; no answer to it is taken',
  ),
  ERR_ANSWER_INVALID: server(
    400,
    false,
    "the value does not fit the question's answer kind (issues attached)",
    'send a valid value',
  ),
  ERR_ANSWER_NOT_ACCEPTED: server(
    409,
    false,
    'the question is pending but the current state does not take answers (e.g. paused)',
    'answer after resume',
  ),
  // Commits and the database
  ERR_COMMIT_IN_DOUBT: server(
    503,
    true,
    'the change was made but its commit did not finish within the commit timeout; it **may still commit** (the runtime keeps trying)',
    'send the same request again to learn: an answer that committed is acked as a duplicate',
  ),
  ERR_DATABASE_UNAVAILABLE: server(
    503,
    true,
    'the runtime has lost its database (or its claim on it) and is reconnecting; nothing was applied',
    'send again later; the typed client retries by itself',
  ),
  ERR_NOT_DURABLE: server(
    503,
    true,
    "the database refused the supervisor's row (a data error): the change will never commit",
    'report it: the supervisor cannot be saved as it is',
  ),
  ERR_SUPERVISOR_MOVED: server(
    503,
    true,
    'several nodes: the node that took the call does not own the supervisor (its slice is held by another node, or just moved); nothing was applied',
    'send it again, to the node that owns it now (the typed client retries)',
  ),
  ERR_NO_SLICES: server(
    503,
    true,
    'several nodes: this node holds no slice yet (it has just started, or lost its leases), so it cannot create a supervisor; nothing was applied',
    'send it again shortly, or to another node',
  ),
  ERR_STALE_VERSION: server(
    409,
    false,
    'the database already holds a newer snapshot of this supervisor; the write was dropped',
    'another writer owns the supervisor',
  ),
  ERR_RUNTIME_STOPPED: server(
    503,
    true,
    'the runtime is shutting down',
    'retry against a running node',
  ),
  // Frames and requests
  ERR_MESSAGE_TOO_LARGE: server(
    413,
    false,
    'a WebSocket frame (or a request body) is over the size limit (1 MiB by default); it is not read',
    'send smaller frames',
  ),
  ERR_MESSAGE_INVALID: server(
    400,
    false,
    'a WebSocket frame is not a JSON object with a string `type` (not JSON, a binary frame not UTF-8, an array, a number, no `type`), or a frame or request body does not fit its schema (issues attached; unknown fields are refused; a supervisor id in it that is not a UUID included)',
    'fix the frame',
  ),
  ERR_IDEMPOTENCY_KEY_INVALID: server(
    400,
    false,
    'the `Idempotency-Key` header of a command is empty, longer than 255 characters, or holds a character that is not printable ASCII',
    'send 1-255 printable ASCII characters (a UUID will do), or no header',
  ),
  ERR_IDEMPOTENCY_KEY_REUSED: server(
    422,
    false,
    'a command came with an `Idempotency-Key` this principal sent within 24 h with another request (another route, supervisor or body); nothing changed',
    'use a new key for a new request; repeat a request only with its own body',
  ),
  ERR_MESSAGE_UNKNOWN_TYPE: server(
    null,
    false,
    "a frame's `type` is a string the protocol does not know (a `type` that is missing or not a string is `ERR_MESSAGE_INVALID`)",
    'use `hello`, `subscribe`, `unsubscribe`, `answer` or `ping`',
  ),
  ERR_SUPERVISOR_NOT_RUNNING: server(
    409,
    false,
    'the supervisor is stored and unfinished but not running on this node (its restore failed, or it was not restored yet)',
    'resume it: `POST /supervisors/:id/resume`',
  ),
  // Who may do what
  ERR_UNAUTHENTICATED: server(
    401,
    false,
    'no token, or a token that is not configured',
    'send a valid token',
  ),
  ERR_FORBIDDEN: server(
    403,
    false,
    "the token may not do this: another owner's subscription or supervisor creation, a question for a role it lacks, metrics without admin",
    'use a token that may',
  ),
  ERR_ORIGIN_NOT_ALLOWED: server(
    403,
    false,
    'a browser page from an origin not on the allow-list opened the WebSocket',
    'add the origin to `STEWARD_ALLOWED_ORIGINS`',
  ),
  ERR_ROUTE_NOT_FOUND: server(
    404,
    false,
    'no such HTTP route (or WebSocket path)',
    'check the URL',
  ),
  ERR_INTERNAL: server(
    500,
    true,
    'an unexpected failure; logged on the server',
    'send the same request again',
  ),
  ERR_VALIDATION: server(
    400,
    false,
    'an argument of the embedded API or the typed client has the wrong shape: the `id` given to `host.spawn` is not a UUID, a client URL is not http(s) or ws(s) (over the wire, a malformed id is `ERR_MESSAGE_INVALID`)',
    'fix the argument',
  ),
  // The typed client on its own
  ERR_CLIENT_CLOSED: clientOnly(
    'the client was closed before the request settled',
    'nothing: you closed it',
  ),
  ERR_TIMEOUT: clientOnly(
    'an answer was not acknowledged within `answerTimeoutMs`; it may or may not have been applied',
    'send it again: a repeated answer is applied once',
  ),
  ERR_UNSUBSCRIBED: clientOnly(
    'a subscription was taken back before the server confirmed it',
    'nothing: subscribe again to have it',
  ),
  ERR_WEBHOOK_SIGNATURE: clientOnly(
    '`verifyWebhook`: the signature does not match the body and the secret',
    'refuse the request; check the secret',
  ),
  ERR_WEBHOOK_STALE: clientOnly(
    '`verifyWebhook`: the timestamp is outside the tolerance (over 300 s off by default)',
    'refuse the request (a replay?); check the clocks',
  ),
  ERR_WEBHOOK_INVALID: clientOnly(
    '`verifyWebhook`: the body is not JSON, or not a notification',
    'refuse the request',
  ),
  ERR_NETWORK: clientOnly(
    'an HTTP request of the typed client (`createStewardHttpClient`) or of the dashboard got no answer from the server (refused, reset, DNS); it may or may not have been applied',
    'check that the server is up, then try again (a repeated answer is applied once)',
  ),
  ERR_RESPONSE_INVALID: clientOnly(
    "the typed client's HTTP side got a response that does not fit its schema: not JSON, or not the body the route answers with (a proxy's error page, a server of another version); `status` says the HTTP status",
    'check the URL and that client and server are of the same version',
  ),
  // The dashboard page on its own
  ERR_DISCONNECTED: dashboardOnly(
    "the dashboard's WebSocket was down, or dropped before an answer was acknowledged; the answer may or may not have been applied",
    'answer again once connected: a repeated answer is applied once',
  ),
} satisfies Record<`ERR_${string}`, ErrorCodeSpec>);

type Registry = typeof ERROR_REGISTRY;
type CodeFrom<S extends ErrorSource> = {
  [K in keyof Registry]: Registry[K]['source'] extends S ? K : never;
}[keyof Registry];

/** A code the server reports: what a `StewardError` and an `error` frame carry. */
export type ErrorCode = CodeFrom<'server'>;

/** A code only the typed client reports, never the server. */
export type ClientOnlyErrorCode = CodeFrom<'client'>;

/** A code a `StewardClientError` can carry: the server's, as sent, or the client's own. */
export type ClientErrorCode = ErrorCode | ClientOnlyErrorCode;

/** Any code of the registry. */
export type AnyErrorCode = keyof Registry;

function codesFrom<S extends ErrorSource>(source: S): readonly CodeFrom<S>[] {
  return Object.freeze(
    (Object.keys(ERROR_REGISTRY) as AnyErrorCode[]).filter(
      (code): code is CodeFrom<S> => ERROR_REGISTRY[code].source === source,
    ),
  );
}

/** Every code the server reports, in registry order. */
export const ERROR_CODES = codesFrom('server') as readonly [ErrorCode, ...ErrorCode[]];

/** Every code only the typed client reports, in registry order. */
export const CLIENT_ONLY_ERROR_CODES = codesFrom('client');

/** True for a string that is a code of the registry. */
export function isKnownErrorCode(code: string): code is AnyErrorCode {
  return Object.hasOwn(ERROR_REGISTRY, code);
}
