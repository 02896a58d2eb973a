// Idempotent commands of the HTTP API: a request that comes again with its `Idempotency-Key`
// answers the first one's reply and applies nothing. The key is written by the host into
// the journal entry committed with the command's effect (commands.ts), so the journal is
// the record of keys: what is found there happened, what is not found did not.
import { createHash } from 'node:crypto';
import { isStewardError, StewardError } from '../errors.ts';
import type { Idempotency } from '../model/requester.ts';
import type { JournalEvent } from '../model/task.ts';
import { inLine } from '../runtime/inLine.ts';
import type { SupervisorHost } from '../runtime/supervisorHost.ts';
import type { Principal } from './auth.ts';

/** How long a key is remembered: a repeat after that executes again. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** The header a command carries its key in. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/** The header a replayed reply carries. */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

const KEY = /^[\x20-\x7e]{1,255}$/;

/**
 * The key of a request's `Idempotency-Key` header, `undefined` without one; a key that is
 * not 1-255 printable ASCII characters is `ERR_IDEMPOTENCY_KEY_INVALID`.
 */
export function idempotencyKeyOf(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (KEY.test(header)) return header;
  throw new StewardError(
    'ERR_IDEMPOTENCY_KEY_INVALID',
    `the ${IDEMPOTENCY_HEADER} header must be 1-255 printable ASCII characters (a UUID will do)`,
    { length: header.length },
  );
}

/** JSON with every object's keys sorted: the same value, however it was spelled, is one text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * What a request asked, as a sha256 hex: its method, its route template, the route's
 * parameters (the supervisor it names: the same key for another supervisor is a reuse)
 * and its parsed body in canonical JSON, so whitespace and key order do not count.
 */
export function requestHash(
  method: string,
  route: string,
  params: Record<string, string>,
  body: unknown,
): string {
  const text = canonicalJson({ method: method.toUpperCase(), route, params, body: body ?? null });
  return createHash('sha256').update(text).digest('hex');
}

/** A reply, and whether it is the first one's replayed. */
export interface IdempotentReply<T> {
  reply: T;
  replayed: boolean;
}

/** A command to run once per key: how to execute it, and how to answer its repeat. */
export interface IdempotentCommand<T> {
  execute(idempotency: Idempotency): Promise<T>;
  /** The first reply, from the entry its execution committed. */
  replay(entry: JournalEvent): T | Promise<T>;
}

/** Where a commit is in doubt: its version, of its supervisor. */
interface Doubt {
  supervisorId: string;
  version: number;
}

/**
 * Runs commands once per (principal, key). Keys are a principal's own: the owner's (every
 * token of an owner shares them), or an owner-less admin token's name.
 *
 * Repeats in flight are put in line here, in process, and each looks the journal up once
 * the one before it settled. With several nodes a repeat may come through another node
 * after this one looked: the node that owns the supervisor looks again, in line, just
 * before executing (runtime/forwarding/keyedLine.ts).
 */
export class IdempotentCommands {
  readonly #host: Pick<SupervisorHost, 'keyedEntries' | 'committed'>;
  /** The last request in line for each (principal, key), settled when it is. */
  readonly #lines = new Map<string, Promise<void>>();
  /** Keys whose command timed out waiting for its commit, which may still come. */
  readonly #doubts = new Map<string, Doubt>();

  constructor(host: Pick<SupervisorHost, 'keyedEntries' | 'committed'>) {
    this.#host = host;
  }

  /**
   * The reply to a command sent with `idempotency`: replayed from its entry when a request
   * with this key committed within the window (`ERR_IDEMPOTENCY_KEY_REUSED` when it asked
   * for something else), executed otherwise. A request that failed committed nothing, so
   * its repeat executes again.
   */
  async run<T>(
    principal: Principal,
    idempotency: Idempotency,
    command: IdempotentCommand<T>,
  ): Promise<IdempotentReply<T>> {
    const slot = `${principal.owner === null ? `token:${principal.label}` : `owner:${principal.owner}`}\n${idempotency.key}`;
    return inLine(this.#lines, slot, () => this.#once(slot, principal, idempotency, command));
  }

  async #once<T>(
    slot: string,
    principal: Principal,
    idempotency: Idempotency,
    command: IdempotentCommand<T>,
  ): Promise<IdempotentReply<T>> {
    this.#checkDoubt(slot);
    const since = new Date(Date.now() - IDEMPOTENCY_WINDOW_MS);
    const entries = await this.#host.keyedEntries(idempotency.key, since);
    const first = entries.find((entry) => sentBy(entry, principal));
    if (first) {
      if ((first.payload as { requestHash?: unknown }).requestHash !== idempotency.requestHash) {
        throw new StewardError(
          'ERR_IDEMPOTENCY_KEY_REUSED',
          `the ${IDEMPOTENCY_HEADER} ${JSON.stringify(idempotency.key)} was sent with another request (another route, supervisor or body) at ${first.createdAt.toISOString()}; use a new key for a new request`,
          { idempotencyKey: idempotency.key, supervisorId: first.supervisorId },
        );
      }
      return { reply: await command.replay(first), replayed: true };
    }
    try {
      return { reply: await command.execute(idempotency), replayed: false };
    } catch (error) {
      if (isStewardError(error, 'ERR_COMMIT_IN_DOUBT')) this.#doubts.set(slot, doubtOf(error));
      throw error;
    }
  }

  /**
   * A repeat of a command whose commit is in doubt waits for the writer: executed now, it
   * could apply twice once the first commit lands. Its supervisor's view says when the
   * version committed; one that left memory has no write queued any more (the journal is
   * then the truth).
   */
  #checkDoubt(slot: string): void {
    const doubt = this.#doubts.get(slot);
    if (!doubt) return;
    const committed = this.#host.committed(doubt.supervisorId);
    if (committed && committed.version < doubt.version) {
      throw new StewardError(
        'ERR_COMMIT_IN_DOUBT',
        `supervisor ${doubt.supervisorId}: the first request with this ${IDEMPOTENCY_HEADER} is still waiting for its commit (version ${doubt.version}); send it again later`,
        { ...doubt },
      );
    }
    this.#doubts.delete(slot);
  }
}

/** Whether an entry's key was sent by this principal (its owner, or this owner-less token). */
function sentBy(entry: JournalEvent, principal: Principal): boolean {
  const by = (entry.payload as { by?: { owner?: unknown; name?: unknown } | null }).by;
  if (!by || by.owner !== principal.owner) return false;
  return principal.owner !== null || by.name === principal.label;
}

function doubtOf(error: StewardError): Doubt {
  const details = error.details as { supervisorId?: unknown; version?: unknown };
  return { supervisorId: String(details.supervisorId), version: Number(details.version) };
}
