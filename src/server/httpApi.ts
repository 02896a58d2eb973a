import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { z } from 'zod';
import { isStewardError, StewardError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { MachineRegistry } from '../machines/registry.ts';
import type { CommandOptions } from '../model/requester.ts';
import type { SupervisorState } from '../model/supervisor.ts';
import type { JournalEvent } from '../model/task.ts';
import {
  AnswerBody,
  CancelBody,
  CreateSupervisorBody,
  EventBody,
  FleetQuery,
  RetryBody,
} from '../protocol/http.ts';
import type { SupervisorDeletion } from '../runtime/retention.ts';
import type { SupervisorHost } from '../runtime/supervisorHost.ts';
import { answerAs } from './answering.ts';
import { bearerToken, canSee, type Principal, type TokenTable } from './auth.ts';
import type { Availability } from './availability.ts';
import { committedReply, createdReply, resumedReply, retriedReply } from './commandReplies.ts';
import { dashboardFiles } from './dashboard/dashboardFiles.ts';
import { machineRoutes } from './dashboard/machineRoutes.ts';
import { errorBody, httpStatusOf, invalid, parseQuery, supervisorNotFound } from './httpErrors.ts';
import {
  IDEMPOTENCY_HEADER,
  IdempotentCommands,
  requestHash as idempotencyHash,
  idempotencyKeyOf,
  REPLAYED_HEADER,
} from './idempotency.ts';
import { journalRoutes } from './journalRoutes.ts';
import type { ServerMetrics } from './metrics.ts';
import { openApiDocument } from './openApi.ts';
import { readinessOf } from './readiness.ts';
import { requesterOf, requestIds } from './requestIds.ts';
import { resume } from './resumeRoute.ts';

/** What the HTTP API serves. */
export interface HttpApiOptions {
  host: SupervisorHost;
  tokens: TokenTable;
  metrics: ServerMetrics;
  log: Logger;
  maxBodyBytes: number;
  /** True once shutdown began: `/healthz` answers 503 so a balancer stops sending work. */
  isStopping: () => boolean;
  /** Whether the runtime has its database: `/readyz`. */
  availability: Availability;
  /** The hosted machines: serves `/machines` and the dashboard's diagrams when given. */
  registry?: MachineRegistry;
  /** Deletes finished supervisors: serves `DELETE /supervisors/:id` when given. */
  retention?: SupervisorDeletion;
}

type Env = { Variables: { principal: Principal; requestId: string } };

/**
 * The JSON body, parsed by its schema. A body that is not JSON is `ERR_MESSAGE_INVALID`; one
 * that does not fit is `refusal` (an event's own code, `ERR_EVENT_INVALID`, for the events route).
 */
async function body<S extends z.ZodType>(
  c: Context<Env>,
  schema: S,
  refusal: 'ERR_MESSAGE_INVALID' | 'ERR_EVENT_INVALID' = 'ERR_MESSAGE_INVALID',
): Promise<z.infer<S>> {
  const text = await c.req.text();
  let value: unknown = {};
  if (text.trim() !== '') {
    try {
      value = JSON.parse(text);
    } catch {
      throw invalid('the request body is not valid JSON');
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const { issues } = parsed.error;
    if (refusal === 'ERR_EVENT_INVALID') {
      throw new StewardError('ERR_EVENT_INVALID', `invalid event: ${issues[0]?.message}`, {
        issues,
      });
    }
    throw invalid(`invalid request body: ${issues[0]?.message}`, issues);
  }
  return parsed.data;
}

/** The HTTP API: JSON in and out, the same tokens as the WebSocket, zod-validated input. */
export function createHttpApi(options: HttpApiOptions): Hono<Env> {
  const { host, tokens, metrics, log } = options;
  const app = new Hono<Env>();
  const commands = new IdempotentCommands(host);

  /** Who asks in this request, for the journal (never the token). */
  const by = (c: Context<Env>) => requesterOf(c.get('principal'), c.get('requestId'));

  /** A supervisor the caller may see, or not found: whether it exists does not leak. */
  async function visible(c: Context<Env>, id: string): Promise<SupervisorState> {
    const supervisor = await host.get(id);
    if (!canSee(c.get('principal'), supervisor.owner)) throw supervisorNotFound(id);
    return supervisor;
  }

  app.use('*', requestIds());
  app.onError((error, c) => {
    if (isStewardError(error)) {
      return c.json({ error: errorBody(error) }, httpStatusOf(error.code) as 400);
    }
    log.error({ err: error, path: c.req.path }, 'http request failed unexpectedly');
    return c.json(
      { error: { code: 'ERR_INTERNAL', message: 'the request failed unexpectedly', details: {} } },
      500,
    );
  });
  app.notFound((c) =>
    c.json(
      {
        error: {
          code: 'ERR_ROUTE_NOT_FOUND',
          message: `no route ${c.req.method} ${c.req.path}`,
          details: {},
        },
      },
      404,
    ),
  );

  app.get('/healthz', (c) =>
    options.isStopping()
      ? c.json({ status: 'stopping', supervisorsInMemory: host.size() }, 503)
      : c.json({
          status: 'ok',
          supervisorsInMemory: host.size(),
          supervisorsPassivated: host.passivated(),
          // Left in their rows by a lazy restart, restored on their first touch.
          supervisorsDeferred: host.deferred(),
          ...(host.slices ? { node: host.slices.status() } : {}),
        }),
  );

  // Readiness for a balancer or an orchestrator: no token, nothing secret in it.
  app.get('/readyz', (c) => {
    const readiness = readinessOf(
      host.commitHealth(),
      options.availability.current(),
      options.isStopping(),
    );
    return c.json(readiness, readiness.ready ? 200 : 503);
  });

  // No token: the document describes the API, it holds no data.
  app.get('/openapi.json', (c) => c.json(openApiDocument()));

  // Registered before the token check, like /healthz: the dashboard's files hold no data.
  app.route('/', dashboardFiles());

  app.use(
    '*',
    bodyLimit({
      maxSize: options.maxBodyBytes,
      onError: () => {
        throw new StewardError(
          'ERR_MESSAGE_TOO_LARGE',
          `request bodies are limited to ${options.maxBodyBytes} bytes`,
        );
      },
    }),
  );
  app.use('*', async (c, next) => {
    const principal = tokens.authenticate(bearerToken(c.req.header('authorization')));
    if (!principal) {
      metrics.authFailures.inc();
      throw new StewardError(
        'ERR_UNAUTHENTICATED',
        'send a valid token as "Authorization: Bearer <token>"',
      );
    }
    c.set('principal', principal);
    await next();
  });

  app.get('/metrics', async (c) => {
    if (!c.get('principal').admin) {
      throw new StewardError('ERR_FORBIDDEN', 'metrics need an admin token');
    }
    c.header('Content-Type', metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  });

  app.get('/supervisors', async (c) => {
    const filter = fleetFilter(c);
    return c.json({ supervisors: await host.list(filter) });
  });

  /**
   * Runs a command, once per `Idempotency-Key` when the request has one (idempotency.ts):
   * a repeat answers the first reply, marked `Idempotent-Replayed: true`.
   */
  async function command<T>(
    c: Context<Env>,
    route: string,
    request: unknown,
    run: {
      execute(asked: CommandOptions): Promise<T>;
      replay(entry: JournalEvent): T | Promise<T>;
    },
  ): Promise<T> {
    const key = idempotencyKeyOf(c.req.header(IDEMPOTENCY_HEADER));
    if (key === undefined) return run.execute({ by: by(c) });
    const requestHash = idempotencyHash(c.req.method, route, c.req.param(), request);
    const { reply, replayed } = await commands.run(
      c.get('principal'),
      { key, requestHash },
      {
        execute: (idempotency) => run.execute({ by: by(c), idempotency }),
        replay: run.replay,
      },
    );
    if (replayed) c.header(REPLAYED_HEADER, 'true');
    return reply;
  }

  app.post('/supervisors', async (c) => {
    const principal = c.get('principal');
    const request = await body(c, CreateSupervisorBody);
    if (request.owner !== undefined && !principal.admin && request.owner !== principal.owner) {
      throw new StewardError(
        'ERR_FORBIDDEN',
        'only admin tokens create supervisors for another owner',
      );
    }
    const created = await command(c, '/supervisors', request, {
      execute: (asked) =>
        host.spawn(request.machineId, request.input, {
          ...asked,
          owner: request.owner ?? principal.owner,
          ...(request.id === undefined ? {} : { id: request.id }),
        }),
      replay: createdReply,
    });
    return c.json(created, 201);
  });

  app.get('/supervisors/:id', async (c) => {
    const supervisor = await visible(c, c.req.param('id'));
    const history = await host.history(supervisor.id, 50);
    return c.json({ supervisor, pendingQuestions: supervisor.pendingQuestions, history });
  });

  // Retention by hand: a finished supervisor and everything of it (journal, checkpoints,
  // tasks) leave the database. Admin only: the audit trail goes with it.
  app.delete('/supervisors/:id', async (c) => {
    if (!c.get('principal').admin) {
      throw new StewardError('ERR_FORBIDDEN', 'deleting a supervisor needs an admin token');
    }
    const { id } = await visible(c, c.req.param('id'));
    const outcome = options.retention ? await options.retention.deleteOne(id) : 'unserved';
    if (outcome === 'unserved') throw new StewardError('ERR_ROUTE_NOT_FOUND', 'no retention here');
    if (outcome === 'not-found') throw supervisorNotFound(id);
    if (outcome === 'not-finished') {
      throw new StewardError(
        'ERR_SUPERVISOR_NOT_FINISHED',
        `supervisor ${id} has not finished; cancel it first, then delete it`,
        { supervisorId: id },
      );
    }
    metrics.retentionDeleted.inc();
    // Its journal went with it: the deletion can only be logged.
    log.info({ audit: 'supervisor.deleted', supervisorId: id, by: by(c) }, 'supervisor deleted');
    return c.json({ id, deleted: true });
  });

  app.get('/supervisors/:id/checkpoints', async (c) => {
    const supervisor = await visible(c, c.req.param('id'));
    return c.json({ checkpoints: await host.checkpoints(supervisor.id, 20) });
  });

  app.post('/supervisors/:id/events', async (c) => {
    const { id } = await visible(c, c.req.param('id'));
    const event = await body(c, EventBody, 'ERR_EVENT_INVALID');
    const sent = await command(c, '/supervisors/:id/events', event, {
      execute: (asked) => host.send(id, event, asked),
      replay: committedReply,
    });
    return c.json(sent);
  });

  app.post('/supervisors/:id/questions/:questionId/answer', async (c) => {
    const { value } = await body(c, AnswerBody);
    const principal = c.get('principal');
    const { id, questionId } = c.req.param();
    const requestId = c.get('requestId');
    return c.json(await answerAs(host, metrics, principal, id, questionId, value, requestId));
  });

  app.post('/supervisors/:id/pause', async (c) => {
    const { id } = await visible(c, c.req.param('id'));
    const paused = await command(c, '/supervisors/:id/pause', null, {
      execute: (asked) => host.pause(id, asked),
      replay: committedReply,
    });
    return c.json(paused);
  });

  app.post('/supervisors/:id/cancel', async (c) => {
    const { id } = await visible(c, c.req.param('id'));
    const request = await body(c, CancelBody);
    const cancelled = await command(c, '/supervisors/:id/cancel', request, {
      execute: (asked) => host.cancel(id, request.reason, asked),
      replay: committedReply,
    });
    return c.json(cancelled);
  });

  // The seed's resume endpoint (resumeRoute.ts): restores one not in memory, unpauses a
  // paused one.
  app.post('/supervisors/:id/resume', async (c) => {
    const supervisor = await visible(c, c.req.param('id'));
    const resumed = await command(c, '/supervisors/:id/resume', null, {
      execute: (asked) => resume(host, supervisor, asked),
      replay: (entry) => resumedReply(entry, (id) => host.get(id)),
    });
    return c.json(resumed);
  });

  // Redrive: a failed or cancelled supervisor back to work from its newest checkpoint.
  app.post('/supervisors/:id/retry', async (c) => {
    const { id } = await visible(c, c.req.param('id'));
    const request = await body(c, RetryBody);
    const retried = await command(c, '/supervisors/:id/retry', request, {
      execute: async (asked) => {
        const options = {
          ...asked,
          ...(request.reason === undefined ? {} : { reason: request.reason }),
        };
        return { retried: true as const, restoration: await host.retry(id, options) };
      },
      replay: (entry) => retriedReply(entry, (id) => host.get(id)),
    });
    return c.json(retried);
  });

  app.route('/supervisors', journalRoutes(host, visible));

  app.get('/questions', async (c) => {
    const filter = fleetFilter(c);
    const supervisors = await host.list({ ...filter, hasPendingQuestions: true });
    return c.json({
      questions: supervisors.flatMap((s) =>
        s.pendingQuestions.map((question) => ({
          supervisorId: s.id,
          owner: s.owner,
          version: s.version,
          question,
        })),
      ),
      nextAfterId: supervisors.at(-1)?.id ?? null,
    });
  });

  if (options.registry) app.route('/machines', machineRoutes(options.registry, host));

  /** The fleet filters of the query string, narrowed to the caller's own supervisors. */
  function fleetFilter(c: Context<Env>) {
    const filter = parseQuery(FleetQuery, c.req.query());
    const principal = c.get('principal');
    if (principal.admin) return filter;
    if (filter.owner !== undefined && filter.owner !== principal.owner) {
      throw new StewardError('ERR_FORBIDDEN', 'this token sees only its own supervisors');
    }
    return { ...filter, owner: principal.owner ?? '' };
  }

  return app;
}
