import type { QuestionAskedFrame, QuestionResolvedFrame } from '../protocol/frames.ts';

/** What the inbox knows of one question of one supervisor. */
interface Known {
  /** The newest version of the supervisor any frame about this question carried. */
  version: number;
  /** Tells a new asking of a reused question id from a re-delivery of the same one. */
  askedAt: string | null;
  state: 'queued' | 'taken' | 'resolved';
}

/**
 * The questions a client has been sent, each yielded once. The server sends a question
 * again after every reconnect and restore (that is how nothing is lost), so the inbox
 * remembers what it handed out: a re-delivery of a question already taken and not resolved
 * is dropped, a question resolved before it was taken is dropped, and a frame older than
 * one already seen for the question (a lower version) is stale and dropped.
 */
export interface QuestionInbox {
  offer(frame: QuestionAskedFrame): void;
  /** Records a resolution; false when the frame is stale. */
  resolve(frame: QuestionResolvedFrame): boolean;
  /** Hands out queued questions; several iterators share the queue, each question goes to one. */
  iterate(): AsyncGenerator<QuestionAskedFrame, void, undefined>;
  /** Ends every iterator: they finish without yielding what is still queued. */
  end(): void;
}

const keyOf = (supervisorId: string, questionId: string) => `${supervisorId}\u0000${questionId}`;

/**
 * How many taken or resolved questions are remembered for spotting repeats; beyond it the
 * oldest are forgotten (a repeat of one of those would be yielded again).
 */
const REMEMBER = 100_000;

export function createQuestionInbox(): QuestionInbox {
  const known = new Map<string, Known>();
  const queued = new Map<string, QuestionAskedFrame>();
  let waiters: Array<(frame: QuestionAskedFrame | null) => void> = [];
  let ended = false;

  /** Re-inserts so the map's order is the order of last use, oldest first. */
  function record(key: string, entry: Known): void {
    known.delete(key);
    known.set(key, entry);
    if (known.size <= REMEMBER) return;
    for (const [oldKey, old] of known) {
      if (known.size <= REMEMBER) break;
      if (old.state !== 'queued') known.delete(oldKey);
    }
  }

  function take(): QuestionAskedFrame | null {
    const first = queued.entries().next();
    if (first.done) return null;
    const [key, frame] = first.value;
    queued.delete(key);
    const entry = known.get(key);
    if (entry) entry.state = 'taken';
    return frame;
  }

  return {
    offer(frame) {
      if (ended) return;
      const key = keyOf(frame.supervisorId, frame.questionId);
      const seen = known.get(key);
      if (seen && frame.version < seen.version) return;
      // Resolved before this client saw it asked: only a later version can be a new asking.
      if (seen?.state === 'resolved' && seen.askedAt === null && frame.version <= seen.version) {
        return;
      }
      const sameAsking = seen !== undefined && seen.askedAt === frame.askedAt;
      if (sameAsking && seen.state !== 'queued') {
        seen.version = frame.version;
        return;
      }
      // A queued question stays in its place; the newer copy replaces the older.
      const wasQueued = seen?.state === 'queued';
      record(key, { version: frame.version, askedAt: frame.askedAt, state: 'queued' });
      if (wasQueued) {
        queued.set(key, frame);
        return;
      }
      const waiter = waiters.shift();
      if (waiter) {
        const entry = known.get(key);
        if (entry) entry.state = 'taken';
        waiter(frame);
      } else queued.set(key, frame);
    },
    resolve(frame) {
      const key = keyOf(frame.supervisorId, frame.questionId);
      const seen = known.get(key);
      if (seen && frame.version < seen.version) return false;
      queued.delete(key);
      record(key, { version: frame.version, askedAt: seen?.askedAt ?? null, state: 'resolved' });
      return true;
    },
    async *iterate() {
      for (;;) {
        if (ended) return;
        const frame =
          take() ?? (await new Promise<QuestionAskedFrame | null>((wake) => waiters.push(wake)));
        if (frame === null) return;
        yield frame;
      }
    },
    end() {
      ended = true;
      queued.clear();
      const sleeping = waiters;
      waiters = [];
      for (const wake of sleeping) wake(null);
    },
  };
}
