import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  createDocument,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponseObject,
} from 'zod-openapi';
import { QuestionId } from '../model/supervisor.ts';
import { ERROR_CODES, ERROR_REGISTRY, type ErrorCode } from '../protocol/errorCodes.ts';
import {
  AnswerBody,
  CancelBody,
  CreateSupervisorBody,
  EventBody,
  FleetQuery,
  JournalQuery,
  MachineVersionQuery,
  RetryBody,
} from '../protocol/http.ts';
import {
  AnswerResult,
  CheckpointList,
  Committed,
  Created,
  Deleted,
  ErrorResponse,
  Health,
  JournalPage,
  MachineCounts,
  MachineList,
  QuestionList,
  Readiness,
  Resumed,
  Retried,
  SupervisorDetail,
  SupervisorList,
} from '../protocol/httpResponses.ts';

// Every schema below is the one the server validates with (`protocol/http.ts`) or the one
// the typed client validates responses with (`protocol/httpResponses.ts`): the document
// cannot drift from either. A route added to httpApi.ts without a path here fails
// test/server/openApi.test.ts.

const json = (description: string, schema: z.ZodType): ZodOpenApiResponseObject => ({
  description,
  content: { 'application/json': { schema } },
});

/** One error response per HTTP status the registry gives a server code, its codes listed. */
function errorResponses(): Record<string, ZodOpenApiResponseObject> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of ERROR_CODES) {
    const status = ERROR_REGISTRY[code].httpStatus;
    if (status !== null) byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, ZodOpenApiResponseObject> = {};
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const error = ErrorResponse.shape.error.extend({ code: z.enum(codes as [ErrorCode]) });
    responses[status] = {
      ...json(`refused: ${codes.join(', ')}`, z.object({ error })),
      id: `Error${status}`,
    };
  }
  return responses;
}

const ERRORS = errorResponses();

/** An operation behind the token check: its success responses and every error response. */
const operation = (
  operationId: string,
  summary: string,
  success: Record<string, ZodOpenApiResponseObject>,
  rest: Omit<ZodOpenApiOperationObject, 'operationId' | 'summary' | 'responses'> = {},
): ZodOpenApiOperationObject => ({
  operationId,
  summary,
  ...rest,
  responses: { ...success, ...ERRORS },
});

/** An operation open without a token, with only the responses it has. */
const open = (
  operationId: string,
  summary: string,
  responses: Record<string, ZodOpenApiResponseObject>,
): ZodOpenApiOperationObject => ({ operationId, summary, security: [], responses });

const SupervisorPath = z.object({
  id: z.string().meta({
    description: 'A supervisor id (a UUID; any other string names none: 404)',
  }),
});
const QuestionPath = SupervisorPath.extend({ questionId: QuestionId });
const MachinePath = z.object({ id: z.string().meta({ description: 'A registered machine id' }) });
const onSupervisor = { requestParams: { path: SupervisorPath } };
const IdempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x20-\x7e]+$/)
    .optional()
    .meta({
      description:
        'Makes the command idempotent: a repeat within 24 h (same principal, same key) answers the first reply with `Idempotent-Replayed: true` and applies nothing; the same key with another request is 422 ERR_IDEMPOTENCY_KEY_REUSED. 1-255 printable ASCII characters (400 ERR_IDEMPOTENCY_KEY_INVALID otherwise).',
    }),
});
const keyed = { requestParams: { header: IdempotencyHeader } };
const keyedOnSupervisor = { requestParams: { path: SupervisorPath, header: IdempotencyHeader } };
const body = (schema: z.ZodType, required = true) => ({
  required,
  content: { 'application/json': { schema } },
});

const PATHS: ZodOpenApiPathsObject = {
  '/healthz': {
    get: open('health', 'Liveness', {
      200: json('working', Health),
      503: json('shutting down', Health),
    }),
  },
  '/readyz': {
    get: open('readiness', 'Readiness: the database claimed and commits going through', {
      200: json('ready', Readiness),
      503: json('not ready', Readiness),
    }),
  },
  '/openapi.json': {
    get: open('openApi', 'This document', { 200: json('the OpenAPI document', z.looseObject({})) }),
  },
  '/metrics': {
    get: operation('metrics', 'Prometheus metrics (admin token)', {
      200: { description: 'Prometheus text', content: { 'text/plain': { schema: z.string() } } },
    }),
  },
  '/supervisors': {
    get: operation(
      'listSupervisors',
      'Supervisors matching the fleet filters',
      { 200: json('the page', SupervisorList) },
      { requestParams: { query: FleetQuery } },
    ),
    post: operation(
      'createSupervisor',
      'Start a supervisor of the newest version of a machine',
      { 201: json('started and committed (or the first reply, replayed)', Created) },
      { ...keyed, requestBody: body(CreateSupervisorBody) },
    ),
  },
  '/supervisors/{id}': {
    get: operation(
      'getSupervisor',
      'A supervisor, its pending questions and its newest 50 journal entries',
      { 200: json('the supervisor', SupervisorDetail) },
      onSupervisor,
    ),
    delete: operation(
      'deleteSupervisor',
      'Delete a finished supervisor with its journal, checkpoints and tasks (admin token)',
      { 200: json('deleted', Deleted) },
      onSupervisor,
    ),
  },
  '/supervisors/{id}/checkpoints': {
    get: operation(
      'listCheckpoints',
      'The newest checkpoints',
      { 200: json('newest first', CheckpointList) },
      onSupervisor,
    ),
  },
  '/supervisors/{id}/events': {
    post: operation(
      'sendEvent',
      'Send an event (the body)',
      { 200: json('committed', Committed) },
      { ...keyedOnSupervisor, requestBody: body(EventBody) },
    ),
  },
  '/supervisors/{id}/questions/{questionId}/answer': {
    post: operation(
      'answerQuestion',
      'Answer a pending question',
      { 200: json('committed (a repeat of the same value: duplicate)', AnswerResult) },
      { requestParams: { path: QuestionPath }, requestBody: body(AnswerBody) },
    ),
  },
  '/supervisors/{id}/pause': {
    post: operation(
      'pauseSupervisor',
      'Pause',
      { 200: json('committed', Committed) },
      keyedOnSupervisor,
    ),
  },
  '/supervisors/{id}/cancel': {
    post: operation(
      'cancelSupervisor',
      'Cancel',
      { 200: json('committed', Committed) },
      { ...keyedOnSupervisor, requestBody: body(CancelBody, false) },
    ),
  },
  '/supervisors/{id}/journal': {
    get: operation(
      'getJournal',
      'The whole journal, newest first, a page at a time (or all of it as NDJSON with format=ndjson)',
      {
        200: {
          description: 'a page (application/json), or every entry, one per line (format=ndjson)',
          content: {
            'application/json': { schema: JournalPage },
            'application/x-ndjson': { schema: z.string() },
          },
        },
      },
      { requestParams: { path: SupervisorPath, query: JournalQuery } },
    ),
  },
  '/supervisors/{id}/retry': {
    post: operation(
      'retrySupervisor',
      'Retry a failed or cancelled supervisor from its newest valid checkpoint, or afresh',
      { 200: json('back at work', Retried) },
      { ...keyedOnSupervisor, requestBody: body(RetryBody, false) },
    ),
  },
  '/supervisors/{id}/resume': {
    post: operation(
      'resumeSupervisor',
      'Resume: restore one not in memory, unpause a paused one',
      { 200: json('restored, unpaused or already running', Resumed) },
      keyedOnSupervisor,
    ),
  },
  '/questions': {
    get: operation(
      'listQuestions',
      'Pending questions across the fleet the token may see',
      { 200: json('the page', QuestionList) },
      { requestParams: { query: FleetQuery } },
    ),
  },
  '/machines': {
    get: operation('listMachines', 'The registered machines', { 200: json('by id', MachineList) }),
  },
  '/machines/{id}/diagram.svg': {
    get: operation(
      'machineDiagram',
      "A version's statechart as SVG",
      { 200: { description: 'SVG', content: { 'image/svg+xml': { schema: z.string() } } } },
      { requestParams: { path: MachinePath, query: MachineVersionQuery } },
    ),
  },
  '/machines/{id}/graph.json': {
    get: operation(
      'machineGraph',
      "A version's statechart as a JSON graph",
      { 200: json('the graph', z.looseObject({})) },
      { requestParams: { path: MachinePath, query: MachineVersionQuery } },
    ),
  },
  '/machines/{id}/counts': {
    get: operation(
      'machineCounts',
      "How many of the caller's supervisors of a machine are in each state value, and how long they stay in each (the median over the last 30 days of the journal)",
      { 200: json('the counts', MachineCounts) },
      { requestParams: { path: MachinePath } },
    ),
  },
};

function packageVersion(): string {
  // Two folders up from src/server/ and from dist/server/ alike.
  const manifest = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(manifest) as { version: string }).version;
}

let document: ReturnType<typeof createDocument> | undefined;

/**
 * The OpenAPI 3.1 document of the HTTP API, served at `GET /openapi.json`: every route with
 * its parameters, body, responses and error codes, generated once from the zod schemas.
 *
 * @example
 * const doc = openApiDocument();
 * Object.keys(doc.paths ?? {}); // ['/healthz', '/readyz', …, '/supervisors/{id}', …]
 */
export function openApiDocument(): ReturnType<typeof createDocument> {
  document ??= createDocument(
    {
      openapi: '3.1.0',
      info: {
        title: 'Steward HTTP API',
        version: packageVersion(),
        description:
          'Durable XState supervisors: create, list, command and answer them. The WebSocket protocol at /ws is described in docs/protocol.md.',
      },
      security: [{ bearer: [] }],
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description:
              'A token of the tokens file (or STEWARD_TOKENS): `Authorization: Bearer <token>`',
          },
        },
      },
      paths: PATHS,
    },
    {
      // zod renders a response object as closed; the client's z.object takes fields a newer
      // server adds, and so may any other client: only a strictObject is closed.
      override: ({ jsonSchema, zodSchema, io }) => {
        const def = zodSchema._zod.def;
        if (io === 'output' && def.type === 'object' && !('catchall' in def && def.catchall)) {
          delete jsonSchema.additionalProperties;
        }
      },
    },
  );
  return document;
}
