// The typed client of the Steward WebSocket protocol and HTTP API (docs/protocol.md).

export { JOURNAL_KINDS, JOURNAL_REGISTRY, JournalKind } from '../model/journalKinds.ts';
export type { QuestionAskedFrame, RecordedAnswer } from '../protocol/frames.ts';
export { JournalEntry } from '../protocol/http.ts';
export type {
  AnswerResult,
  Committed,
  Created,
  Deleted,
  JournalPage,
  QuestionList,
  RestorationInfo,
  Resumed,
  Retried,
  SupervisorDetail,
  SupervisorList,
  SupervisorView,
} from '../protocol/httpResponses.ts';
export type { WebhookNotification } from '../protocol/webhook.ts';
export type { BackoffPolicy } from './backoff.ts';
export {
  type ClientErrorCode,
  type ClientOnlyErrorCode,
  isStewardClientError,
  RETRYABLE_CODES,
  StewardClientError,
  type StewardClientErrorDetails,
  type StewardClientErrorOf,
} from './clientError.ts';
export type {
  QuestionResolution,
  StewardClientEventMap,
  StewardClientEvents,
  SupervisorStatus,
} from './clientEvents.ts';
export type { ClientLog } from './clientLog.ts';
export type { ClientIdentity, ConnectionLoss } from './clientSocket.ts';
export type { AnswerAck } from './pendingAnswers.ts';
export {
  createStewardClient,
  type StewardClient,
  type StewardClientOptions,
  webSocketUrl,
} from './stewardClient.ts';
export {
  type CommandRequestOptions,
  type CreateSupervisorRequest,
  createStewardHttpClient,
  type FleetFilters,
  httpBaseUrl,
  type StewardHttpClient,
  type StewardHttpClientOptions,
} from './stewardHttpClient.ts';
export type { SubscribeTarget } from './subscriptionSet.ts';
export { type ReceivedWebhook, verifyWebhook } from './verifyWebhook.ts';
