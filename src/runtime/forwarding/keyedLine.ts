// Keyed commands at the node that owns their supervisor. On one node the HTTP API puts the
// repeats of a key in line and looks the journal up before each (server/idempotency.ts);
// with several nodes a repeat may arrive through another node after that node looked, so
// the owner, which every keyed command of its supervisors passes through, looks again, in
// line, just before executing: what the journal holds was applied, and is not again.
import type { SupervisorHost } from '../hostApi.ts';
import { inLine } from '../inLine.ts';
import type { ForwardedCall } from './forwardedCall.ts';

/** How far back a key is looked for: the HTTP API's window. */
const WINDOW_MS = 24 * 60 * 60 * 1000;

/** Puts the keyed commands of this node's supervisors in line, one per key at a time. */
export class KeyedLine {
  readonly #host: Pick<SupervisorHost, 'keyedEntries'>;
  readonly #lines = new Map<string, Promise<void>>();

  constructor(host: Pick<SupervisorHost, 'keyedEntries'>) {
    this.#host = host;
  }

  /**
   * Executes `call` unless a command with its key and request hash for this supervisor is
   * in the journal already; then resolves with what that one did (its version, or a retry's
   * kept reply). Answers and restores are not keyed this way: a repeated answer is found
   * by the question it answers.
   */
  async run<T>(supervisorId: string, call: ForwardedCall, execute: () => Promise<T>): Promise<T> {
    if (call.kind === 'answer' || call.kind === 'restore') return execute();
    const idempotency = call.options.idempotency;
    if (!idempotency) return execute();
    return inLine(this.#lines, `${supervisorId}\n${idempotency.key}`, async () => {
      const earlier = await this.#applied(supervisorId, call.kind, idempotency);
      return earlier === undefined ? execute() : (earlier as T);
    });
  }

  async #applied(
    supervisorId: string,
    kind: ForwardedCall['kind'],
    idempotency: { key: string; requestHash: string },
  ): Promise<unknown> {
    const since = new Date(Date.now() - WINDOW_MS);
    const entries = await this.#host.keyedEntries(idempotency.key, since);
    const entry = entries.find(
      (e) =>
        e.supervisorId === supervisorId &&
        (e.payload as { requestHash?: unknown }).requestHash === idempotency.requestHash,
    );
    if (!entry) return undefined;
    if (kind === 'retry') return (entry.payload as { reply?: unknown }).reply;
    if (kind === 'spawn') return { id: supervisorId, version: entry.version };
    return { version: entry.version };
  }
}
