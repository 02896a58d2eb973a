import { z } from 'zod';
import { type AnswerKind, type LifecycleState, QuestionId } from '../model/supervisor.ts';

/** The protocol version; a client states the one it speaks in `hello`. */
export const PROTOCOL_VERSION = 1;

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

/** Which supervisors' questions and status a client wants: by id, by owner, or all it may see. */
export const SubscribeFrame = z.strictObject({
  type: z.literal('subscribe'),
  requestId: RequestId,
  supervisorIds: z.array(z.uuid()).max(10_000).optional(),
  owner: z.string().min(1).max(200).optional(),
  all: z.literal(true).optional(),
});

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
  AnswerFrame,
  PingFrame,
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

// ---- server → client ----

interface AboutSupervisor {
  supervisorId: string;
  /** The committed version the frame reflects: drop a frame older than one already seen. */
  version: number;
}

/** Every frame the server sends. */
export type ServerFrame =
  | { type: 'hello.ok'; requestId: string; protocol: number; owner: string | null; admin: boolean }
  | { type: 'subscribed'; requestId: string; supervisors: number }
  | (AboutSupervisor & {
      type: 'question.asked';
      questionId: string;
      prompt: string;
      answer: AnswerKind;
      askedAt: string;
      deadline: string | null;
      /** How many times this question was sent to this connection (re-sends after restores). */
      deliveryCount: number;
    })
  | (AboutSupervisor & {
      type: 'question.resolved';
      questionId: string;
      resolution: 'answered' | 'withdrawn' | 'expired';
    })
  | (AboutSupervisor & {
      type: 'supervisor.status';
      state: LifecycleState;
      stateValue: string;
      phase: string | null;
      activity: string | null;
      progress: number;
    })
  | (AboutSupervisor & {
      type: 'answer.ack';
      requestId: string;
      questionId: string;
      duplicate: boolean;
    })
  | { type: 'pong'; requestId: string }
  | {
      type: 'error';
      requestId: string | null;
      code: string;
      message: string;
      issues?: Array<{ code: string; path: PropertyKey[]; message: string }>;
    };
