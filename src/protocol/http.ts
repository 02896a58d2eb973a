import { z } from 'zod';
import { LifecycleState } from '../model/supervisor.ts';
import { JournalEvent } from '../model/task.ts';

/** Request bodies are refused above this many bytes. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** `POST /supervisors`: start a supervisor of the newest registered version of a machine. */
export const CreateSupervisorBody = z.strictObject({
  machineId: z.string().min(1).max(200),
  input: z.unknown().optional(),
  /** A UUID of your choosing; makes a retried create safe (the second gets 409). */
  id: z.uuid().optional(),
  /** Admin tokens only; other tokens create supervisors of their own owner. */
  owner: z.string().min(1).max(200).optional(),
});

/**
 * Event types only the runtime sends: answers are validated and journaled through the answer
 * route, expiries and their wake-ups (`steward.deadline`) come from a question's deadline,
 * task outcomes from the task runner, restoration notices from restoration.
 */
const RESERVED_EVENT =
  /^(?:question\.(?:answered|expired)|steward\..*|task\..*|xstate\..*|supervisor\.(?:restored|heartbeat))$/;

/** `POST /supervisors/:id/events`: the body is the event. */
export const EventBody = z.looseObject({
  type: z
    .string()
    .min(1)
    .max(200)
    .refine((type) => !RESERVED_EVENT.test(type), {
      message: 'this event type is sent only by the runtime (answers go to the answer route)',
    }),
});

/** `POST /supervisors/:id/questions/:questionId/answer`. */
export const AnswerBody = z.strictObject({ value: z.unknown() });

/** `POST /supervisors/:id/cancel`. */
export const CancelBody = z.strictObject({ reason: z.string().max(2_000).optional() });

/** `POST /supervisors/:id/retry`: why, journaled with who asked. */
export const RetryBody = z.strictObject({ reason: z.string().max(2_000).optional() });

const Flag = z.enum(['true', 'false']).transform((value) => value === 'true');
const Count = z.coerce.number().int();

/** `GET /supervisors` and `GET /questions`: the fleet filters as query parameters. */
export const FleetQuery = z.strictObject({
  /** One lifecycle state, or several separated by commas. */
  state: z
    .string()
    .transform((value) => value.split(','))
    .pipe(z.array(LifecycleState).min(1))
    .optional(),
  stateValue: z.string().min(1).optional(),
  tag: z.string().min(1).optional(),
  owner: z.string().min(1).optional(),
  machineId: z.string().min(1).optional(),
  hasPendingQuestions: Flag.optional(),
  stuckForMs: Count.positive().optional(),
  progressMin: Count.min(0).max(100).optional(),
  progressMax: Count.min(0).max(100).optional(),
  /** Words each found (case aside) in the id, title, owner, machine, state, phase or activity. */
  search: z.string().trim().min(1).max(200).optional(),
  /** `id` (the default) or `attention`: waiting for a person, failed, running, finished. */
  order: z.enum(['id', 'attention']).optional(),
  /** The last supervisor of the previous page, in the order asked for. */
  afterId: z.uuid().optional(),
  limit: Count.min(1).max(1000).optional(),
});
export type FleetQuery = z.infer<typeof FleetQuery>;

/** The most entries one page of `GET /supervisors/:id/journal` holds, and its default. */
export const JOURNAL_PAGE_MAX = 1000;
export const JOURNAL_PAGE_DEFAULT = 100;

/**
 * `GET /supervisors/:id/journal`: a page of the journal, newest first, before the entry id
 * `before` (from the newest without it); or, with `format=ndjson`, the whole journal.
 */
export const JournalQuery = z.strictObject({
  before: Count.positive().optional(),
  limit: Count.min(1).max(JOURNAL_PAGE_MAX).optional(),
  format: z.enum(['json', 'ndjson']).optional(),
});
export type JournalQuery = z.infer<typeof JournalQuery>;

/** `GET /machines/:id/diagram.svg` and `graph.json`: a registered version, the newest when omitted. */
export const MachineVersionQuery = z.strictObject({
  version: z.coerce.number().int().nonnegative().optional(),
});

/**
 * One journal entry as a response carries it (`history` of `GET /supervisors/:id`, and of
 * the `RestorationInfo` a resume returns): the model's `JournalEvent`, its `kind` one of
 * `JournalKind`, its time an ISO 8601 string.
 *
 * @example
 * const { history } = await (await fetch(`${url}/supervisors/${id}`, { headers })).json();
 * const entries = z.array(JournalEntry).parse(history);
 * entries.filter((e) => e.kind === 'question_answered');
 */
export const JournalEntry = JournalEvent.extend({ createdAt: z.iso.datetime() });
export type JournalEntry = z.infer<typeof JournalEntry>;

/**
 * The response of `GET /supervisors/:id/journal`: entries newest first, and the `before` of
 * the next page (`null`: this was the oldest).
 *
 * @example
 * let before: number | null = null;
 * do {
 *   const page = JournalPage.parse(await (await fetch(`${url}/supervisors/${id}/journal${before ? `?before=${before}` : ''}`, { headers })).json());
 *   for (const entry of page.entries) console.log(entry.kind);
 *   before = page.nextBefore;
 * } while (before !== null);
 */
export const JournalPage = z.object({
  entries: z.array(JournalEntry),
  nextBefore: z.number().int().positive().nullable(),
});
export type JournalPage = z.infer<typeof JournalPage>;
