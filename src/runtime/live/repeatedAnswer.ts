// A second answer to a question already answered (on its way to the database, or
// committed): the same value is a duplicate, acknowledged and applied once; another value is
// refused with the answer that won, so the loser of a race learns what stands. Neither
// writes anything.
import { StewardError } from '../../errors.ts';
import type { SupervisorStore } from '../../persistence/supervisorStore.ts';
import { questionExpired } from './answerCheck.ts';

/** The answer that was taken for a question: what a refused repeat is told. */
export interface WinningAnswer {
  value: unknown;
  /** Who answered, as the journal records it; `null` when it does not say. */
  answeredBy: string | null;
  /** The version whose commit holds the answer. */
  version: number;
}

/** The answer the journal holds for a question, or `undefined`. */
export async function recordedAnswer(
  store: Pick<SupervisorStore, 'findAnswer'>,
  id: string,
  questionId: string,
): Promise<WinningAnswer | undefined> {
  const recorded = await store.findAnswer(id, questionId);
  return recorded ? { ...recorded, version: recorded.version ?? 0 } : undefined;
}

/**
 * What the journal says of a question no longer pending when an answer comes: answered
 * (the repeat's result, or ERR_ALREADY_ANSWERED for another value), expired
 * (ERR_QUESTION_EXPIRED), or nothing (undefined).
 */
export async function answeredBefore(
  store: Pick<SupervisorStore, 'findAnswer' | 'findExpiry'>,
  id: string,
  questionId: string,
  value: unknown,
): Promise<{ version: number; duplicate: true } | undefined> {
  const recorded = await recordedAnswer(store, id, questionId);
  if (recorded) return repeatedAnswer(id, questionId, recorded, value);
  if (await store.findExpiry(id, questionId)) throw questionExpired(id, questionId);
  return undefined;
}

/**
 * The result of answering `questionId` again with `value` when `recorded` was taken: a
 * duplicate for the same JSON value, `ERR_ALREADY_ANSWERED` carrying `recorded` otherwise.
 */
export function repeatedAnswer(
  id: string,
  questionId: string,
  recorded: WinningAnswer,
  value: unknown,
): { version: number; duplicate: true } {
  if (sameJson(recorded.value, value)) return { version: recorded.version, duplicate: true };
  const { value: winner, answeredBy, version } = recorded;
  throw new StewardError(
    'ERR_ALREADY_ANSWERED',
    `question ${questionId} of supervisor ${id} was already answered with another value (${preview(winner)}${answeredBy === null ? '' : ` by ${answeredBy}`}); the recorded answer stands`,
    { id, questionId, recorded: { value: winner, answeredBy, version } },
  );
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * True when two values are the same JSON value: objects compare by their keys whatever
 * their order (a recorded answer comes back from jsonb with its keys sorted), and a key
 * whose value is `undefined` counts as absent, as it does once serialized.
 *
 * @example
 * sameJson({ a: 1, b: [true] }, { b: [true], a: 1 }); // true
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => sameJson(item, b[index]));
  }
  const left = definedKeys(a);
  const right = definedKeys(b);
  if (left.length !== right.length) return false;
  const record = (o: object) => o as Record<string, unknown>;
  return left.every((key) => Object.hasOwn(b, key) && sameJson(record(a)[key], record(b)[key]));
}

function definedKeys(o: object): string[] {
  return Object.keys(o).filter((key) => (o as Record<string, unknown>)[key] !== undefined);
}
