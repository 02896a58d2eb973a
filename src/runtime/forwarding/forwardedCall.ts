// A call for a supervisor of another node, as data: what the node a client reached writes
// in the inbox, what the owner checks and executes against its host, and the outcome it
// writes back. Only calls that change a supervisor travel; reads come from the rows.
import { z } from 'zod';
import { StewardError } from '../../errors.ts';
import { Requester } from '../../model/requester.ts';
import { AnswerGrant, RestorationSource } from '../../model/supervisor.ts';
import type { SupervisorHost } from '../hostApi.ts';

const Idempotency = z.strictObject({ key: z.string(), requestHash: z.string() });
const Options = {
  by: Requester.nullable().optional(),
  idempotency: Idempotency.optional(),
};

/** Every call that may be forwarded, with its arguments. */
export const ForwardedCall = z.discriminatedUnion('kind', [
  // A create on a node that holds no slice: the id is chosen by the caller, in a slice
  // another node holds, and the supervisor is created there.
  z.strictObject({
    kind: z.literal('spawn'),
    machineId: z.string(),
    input: z.unknown(),
    options: z.strictObject({ ...Options, owner: z.string().nullable().optional() }),
  }),
  z.strictObject({
    kind: z.literal('answer'),
    questionId: z.string(),
    value: z.unknown(),
    options: z.strictObject({
      ...Options,
      answeredBy: z.string().nullable().optional(),
      grant: AnswerGrant.optional(),
    }),
  }),
  z.strictObject({ kind: z.literal('send'), event: z.unknown(), options: z.strictObject(Options) }),
  z.strictObject({
    kind: z.literal('recordCommand'),
    command: z.enum(['spawn', 'event', 'pause', 'resume', 'cancel']),
    details: z.record(z.string(), z.unknown()).optional(),
    options: z.strictObject(Options),
  }),
  z.strictObject({
    kind: z.literal('retry'),
    options: z.strictObject({ ...Options, reason: z.string().optional() }),
  }),
  z.strictObject({
    kind: z.literal('restore'),
    source: RestorationSource,
    options: z.strictObject(Options),
  }),
]);
export type ForwardedCall = z.infer<typeof ForwardedCall>;

/** What the owner writes back: the call's result, or the error it refused it with. */
export type Outcome =
  | { result: unknown }
  | { error: { code: string; message: string; details: Record<string, unknown> } };

/**
 * Runs a forwarded call on the owner's host: resolves after the call's own commit, like
 * the call made there directly. A call the inbox holds in a shape this version does not
 * know is refused (`ERR_VALIDATION`), never guessed at.
 */
export async function execute(
  host: SupervisorHost,
  supervisorId: string,
  stored: unknown,
): Promise<unknown> {
  const parsed = ForwardedCall.safeParse(stored);
  if (!parsed.success) {
    throw new StewardError(
      'ERR_VALIDATION',
      'a forwarded call has a shape this node does not know',
      {
        issues: parsed.error.issues,
      },
    );
  }
  const call = parsed.data;
  const options = withoutUndefined(call.options);
  switch (call.kind) {
    case 'spawn':
      return host.spawn(call.machineId, call.input, { ...options, id: supervisorId });
    case 'answer':
      return host.answer(supervisorId, call.questionId, call.value, options);
    case 'send':
      return host.send(supervisorId, call.event, options);
    case 'recordCommand':
      return host.recordCommand(supervisorId, call.command, options, call.details ?? {});
    case 'retry':
      return host.retry(supervisorId, options);
    case 'restore':
      return host.restore(supervisorId, call.source, options);
  }
}

/** A call's outcome as JSON: the result, or a StewardError's code, message and details. */
export function outcomeOf(settled: { result: unknown } | { error: unknown }): Outcome {
  if ('result' in settled) return { result: settled.result ?? null };
  const { error } = settled;
  if (error instanceof StewardError) {
    return { error: { code: error.code, message: error.message, details: { ...error.details } } };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    error: { code: 'ERR_INTERNAL', message: `the owner failed the call: ${message}`, details: {} },
  };
}

/** The result an outcome carries, or its error thrown again as the caller's own. */
export function settle<T>(outcome: unknown, kind: ForwardedCall['kind']): T {
  const known = outcome as Partial<Outcome> | null;
  if (known && 'error' in known && known.error) {
    const { code, message, details } = known.error;
    throw new StewardError(code as StewardError['code'], message, details ?? {});
  }
  const result = (known as { result?: unknown } | null)?.result;
  // JSON has no dates: a RestorationInfo's comes back as a string.
  if ((kind === 'retry' || kind === 'restore') && result && typeof result === 'object') {
    const info = result as { restoredAt?: unknown };
    if (typeof info.restoredAt === 'string') info.restoredAt = new Date(info.restoredAt);
  }
  return result as T;
}

/** The options without keys set to undefined, as `exactOptionalPropertyTypes` wants them. */
function withoutUndefined<T extends object>(
  options: T,
): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}
