import { z } from 'zod';
import { AnswerKind, Audience, LifecycleState, QuestionId } from '../model/supervisor.ts';
import { ERROR_CODES } from './errorCodes.ts';

/** The protocol version; a client states the one it speaks in `hello`. */
export const PROTOCOL_VERSION = 1;

/**
 * The close code of a connection refused for its token (application range): a bad or
 * missing `hello`, or a token removed or changed while connected.
 */
export const CLOSE_UNAUTHENTICATED = 4401;

/** Inbound frames larger than this are refused unread (bytes of UTF-8). */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;

const RequestId = z.string().min(1).max(128);

// ---- client → server ----

/** First frame of a browser client, which cannot set an Authorization header. */
export const HelloFrame = z.strictObject({
  type: z.literal('hello'),
  requestId: RequestId,
  token: z.string().min(1).max(4096),
  protocol: z.literal(PROTOCOL_VERSION),
});

/** The supervisors a subscription names: by id, by owner, or all the token may see. */
const Scope = {
  supervisorIds: z.array(z.uuid()).min(1).max(10_000).optional(),
  owner: z.string().min(1).max(200).optional(),
  all: z.literal(true).optional(),
};

function oneScope(frame: { supervisorIds?: unknown; owner?: unknown; all?: unknown }): boolean {
  return [frame.supervisorIds, frame.owner, frame.all].filter((v) => v !== undefined).length === 1;
}

const ONE_SCOPE = { message: 'give exactly one of supervisorIds, owner or all' };

/**
 * Which supervisors' questions and status a client wants: by id, by owner, or all it may
 * see. Subscriptions add up; each one is answered by every matching pending question.
 */
export const SubscribeFrame = z
  .strictObject({ type: z.literal('subscribe'), requestId: RequestId, ...Scope })
  .refine(oneScope, ONE_SCOPE);
export type SubscribeFrame = z.infer<typeof SubscribeFrame>;

/**
 * Takes back what a `subscribe` of the same scope added: those ids, that owner, or `all`.
 * A supervisor another remaining subscription still covers keeps coming. Once
 * `unsubscribed` arrives, no further frame comes for what is no longer covered.
 */
export const UnsubscribeFrame = z
  .strictObject({ type: z.literal('unsubscribe'), requestId: RequestId, ...Scope })
  .refine(oneScope, ONE_SCOPE);
export type UnsubscribeFrame = z.infer<typeof UnsubscribeFrame>;

/** An answer: acknowledged only after the commit that records it. */
export const AnswerFrame = z.strictObject({
  type: z.literal('answer'),
  requestId: RequestId,
  supervisorId: z.uuid(),
  questionId: QuestionId,
  value: z.unknown(),
});

export const PingFrame = z.strictObject({ type: z.literal('ping'), requestId: RequestId });

/** Every frame a client may send. */
export const ClientFrame = z.discriminatedUnion('type', [
  HelloFrame,
  SubscribeFrame,
  UnsubscribeFrame,
  AnswerFrame,
  PingFrame,
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

/** The `type` of every client frame, for error messages and fuzzing. */
export const CLIENT_FRAME_TYPES = ['hello', 'subscribe', 'unsubscribe', 'answer', 'ping'] as const;

// ---- server → client ----

/** Fields of every frame about one supervisor. */
const AboutSupervisor = {
  supervisorId: z.uuid(),
  /** The committed version the frame reflects: drop a frame older than one already seen. */
  version: z.number().int().nonnegative(),
};

export const HelloOkFrame = z.object({
  type: z.literal('hello.ok'),
  requestId: RequestId.nullable(),
  protocol: z.number().int(),
  owner: z.string().nullable(),
  admin: z.boolean(),
});

export const SubscribedFrame = z.object({
  type: z.literal('subscribed'),
  requestId: RequestId,
  /** Pending questions sent with this subscription. */
  pendingQuestions: z.number().int().nonnegative(),
});

export const UnsubscribedFrame = z.object({
  type: z.literal('unsubscribed'),
  requestId: RequestId,
});

export const QuestionAskedFrame = z.object({
  type: z.literal('question.asked'),
  ...AboutSupervisor,
  questionId: QuestionId,
  prompt: z.string(),
  answer: AnswerKind,
  /** Who is asked now: the escalation's audience once it came (the first may still answer). */
  audience: Audience,
  askedAt: z.string(),
  deadline: z.string().nullable(),
  /** When it is sent again as a reminder, if still pending; `null`: no reminder. */
  remindAt: z.string().nullable(),
  /** When its audience widens, and to whom; `null`: no escalation. */
  escalation: z.object({ at: z.string(), audience: Audience }).nullable(),
  /** True once its escalation came: `audience` is then the escalation's. */
  escalated: z.boolean(),
  /** True when this frame is its reminder (sent once, when `remindAt` came). */
  reminder: z.boolean(),
  /**
   * How many times this server process has sent this question to the same token (re-sends
   * after reconnects and restores count), plus the runtime starts since it was asked: 1
   * only for a first delivery, also after a restart.
   */
  deliveryCount: z.number().int().positive(),
});
export type QuestionAskedFrame = z.infer<typeof QuestionAskedFrame>;

export const QuestionResolvedFrame = z.object({
  type: z.literal('question.resolved'),
  ...AboutSupervisor,
  questionId: QuestionId,
  resolution: z.enum(['answered', 'withdrawn', 'expired']),
});

export type QuestionResolvedFrame = z.infer<typeof QuestionResolvedFrame>;

export const SupervisorStatusFrame = z.object({
  type: z.literal('supervisor.status'),
  ...AboutSupervisor,
  state: LifecycleState,
  stateValue: z.string(),
  phase: z.string().nullable(),
  activity: z.string().nullable(),
  progress: z.number().int().min(0).max(100),
});
export type SupervisorStatusFrame = z.infer<typeof SupervisorStatusFrame>;

export const AnswerAckFrame = z.object({
  type: z.literal('answer.ack'),
  ...AboutSupervisor,
  requestId: RequestId,
  questionId: QuestionId,
  /** True when the question had already been answered (by anyone): applied once. */
  duplicate: z.boolean(),
});

export const PongFrame = z.object({ type: z.literal('pong'), requestId: RequestId });

/**
 * Whether the runtime has its database. Sent on every change, and after `hello.ok` while
 * it is `unavailable`: then every request is refused with `ERR_DATABASE_UNAVAILABLE`
 * (nothing applied) until `available`, when every pending question is sent again.
 */
export const RuntimeStatusFrame = z.object({
  type: z.literal('runtime.status'),
  database: z.enum(['available', 'unavailable']),
  /** When it became so (ISO 8601). */
  since: z.string(),
  reason: z.string().optional(),
});
export type RuntimeStatusFrame = z.infer<typeof RuntimeStatusFrame>;

/**
 * The answer that stands for a question, as `ERR_ALREADY_ANSWERED` carries it (an `error`
 * frame's `recorded`, an HTTP error's `error.recorded`).
 */
export const RecordedAnswer = z.object({
  value: z.unknown(),
  /** Who answered, as the journal records it (an owner or a token's name); `null` when it does not say. */
  answeredBy: z.string().nullable(),
  /** The committed version that holds the answer. */
  version: z.number().int().nonnegative(),
});
export type RecordedAnswer = z.infer<typeof RecordedAnswer>;

/** A refusal: `code` is one of the server's codes in the registry (`errorCodes.ts`). */
export const ErrorFrame = z.object({
  type: z.literal('error'),
  requestId: RequestId.nullable(),
  code: z.enum(ERROR_CODES),
  message: z.string(),
  issues: z
    .array(
      z.object({
        code: z.string(),
        path: z.array(z.union([z.string(), z.number()])),
        message: z.string(),
      }),
    )
    .optional(),
  /** With `ERR_ALREADY_ANSWERED`: the answer that stands. */
  recorded: RecordedAnswer.optional(),
});
export type ErrorFrame = z.infer<typeof ErrorFrame>;

/** Every frame the server sends. */
export const ServerFrame = z.discriminatedUnion('type', [
  HelloOkFrame,
  SubscribedFrame,
  UnsubscribedFrame,
  QuestionAskedFrame,
  QuestionResolvedFrame,
  SupervisorStatusFrame,
  AnswerAckFrame,
  PongFrame,
  RuntimeStatusFrame,
  ErrorFrame,
]);
export type ServerFrame = z.infer<typeof ServerFrame>;
