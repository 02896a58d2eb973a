import { Validator } from '@seriousme/openapi-schema-validator';
import { expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.ts';
import { ERROR_CODES, ERROR_REGISTRY } from '../../src/protocol/errorCodes.ts';
import { CreateSupervisorBody } from '../../src/protocol/http.ts';
import { createTokenTable } from '../../src/server/auth.ts';
import { createAvailability } from '../../src/server/availability.ts';
import { DASHBOARD_FILES } from '../../src/server/dashboard/dashboardFiles.ts';
import { createHttpApi } from '../../src/server/httpApi.ts';
import { openApiDocument } from '../../src/server/openApi.ts';
import { engines } from '../helpers/engines.ts';
import { useServer } from '../helpers/server.ts';
import { testRegistry } from '../helpers/testMachines.ts';

// biome-ignore lint/suspicious/noExplicitAny: the document is read as the JSON it is served as
type Json = Record<string, any>;

const fixture = useServer(engines[0] as (typeof engines)[number]);

/** `METHOD /path` of every route the HTTP API serves, with every optional part on. */
function servedRoutes(): string[] {
  const app = createHttpApi({
    host: fixture.host,
    tokens: createTokenTable([]),
    metrics: fixture.metrics,
    log: silentLogger,
    maxBodyBytes: 1024,
    isStopping: () => false,
    availability: createAvailability(),
    registry: testRegistry(),
    retention: { deleteOne: async () => 'not-found' },
  });
  const routes = app.routes
    // Middleware (`app.use`) is registered as ALL; the dashboard's files are not the API.
    .filter((route) => route.method !== 'ALL' && !Object.hasOwn(DASHBOARD_FILES, route.path))
    .map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, '{$1}')}`);
  return [...new Set(routes)].sort();
}

function documentedRoutes(document: Json): string[] {
  return Object.entries(document.paths as Json)
    .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

it('documents every route the HTTP API serves, and no other', () => {
  const served = servedRoutes();
  expect(served).toContain('GET /supervisors/{id}');
  expect(documentedRoutes(openApiDocument())).toEqual(served);
});

it('names every operation once, for generated clients', () => {
  const operations = Object.values(openApiDocument().paths as Json).flatMap((item) =>
    Object.values(item as Json),
  );
  const ids = operations.map((operation) => operation.operationId);
  expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
  expect(new Set(ids).size).toBe(operations.length);
});

it('serves an OpenAPI 3.1 document that the OpenAPI schema validator accepts, without a token', async () => {
  const response = await fetch(`${fixture.server.url}/openapi.json`);
  expect(response.status).toBe(200);
  const document = (await response.json()) as Json;
  expect(document.openapi).toMatch(/^3\.1\./);
  const result = await new Validator().validate(document);
  expect(result).toEqual({ valid: true });
});

it("gives every route behind the token each server code's error response under the code's HTTP status", () => {
  const document = openApiDocument() as Json;
  expect(document.components.securitySchemes.bearer).toMatchObject({
    type: 'http',
    scheme: 'bearer',
  });
  expect(document.security).toEqual([{ bearer: [] }]);
  const listed: Record<string, string[]> = {};
  for (const [name, response] of Object.entries(document.components.responses as Json)) {
    const schema = response.content['application/json'].schema;
    expect(Object.keys(schema.properties.error.properties)).toEqual([
      'code',
      'message',
      'details',
      'recorded',
    ]);
    listed[name] = schema.properties.error.properties.code.enum;
  }
  const expected: Record<string, string[]> = {};
  for (const code of ERROR_CODES) {
    const status = ERROR_REGISTRY[code].httpStatus;
    if (status !== null) expected[`Error${status}`] = [...(expected[`Error${status}`] ?? []), code];
  }
  expect(listed).toEqual(expected);

  const statuses = Object.keys(expected).map((name) => name.slice('Error'.length));
  for (const [path, item] of Object.entries(document.paths as Json)) {
    for (const [method, operation] of Object.entries(item as Json)) {
      if (operation.security?.length === 0) continue; // open: /healthz, /readyz, this document
      const refs = statuses.map((s) => operation.responses[s]?.$ref);
      expect(refs, `${method} ${path}`).toEqual(
        statuses.map((s) => `#/components/responses/Error${s}`),
      );
    }
  }
});

it('describes request bodies, path and query parameters with the schemas the server validates with', () => {
  const document = openApiDocument() as Json;
  const create = document.paths['/supervisors'].post.requestBody.content['application/json'].schema;
  expect(Object.keys(create.properties).sort()).toEqual(
    Object.keys(CreateSupervisorBody.shape).sort(),
  );
  expect(create.additionalProperties).toBe(false); // strict: unknown fields are refused
  const list = document.paths['/supervisors'].get.parameters as Json[];
  expect(list.map((p) => p.name)).toContain('hasPendingQuestions');
  const answer = document.paths['/supervisors/{id}/questions/{questionId}/answer'].post;
  expect(answer.parameters.map((p: Json) => [p.in, p.name, p.required])).toEqual([
    ['path', 'id', true],
    ['path', 'questionId', true],
  ]);
});
