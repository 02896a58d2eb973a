// What the host answers from the supervisors' rows rather than from memory: one supervisor,
// the fleet's lists and counts, the journal, the checkpoints. While the database is lost
// they are refused like every call.
import type { SupervisorState } from '../model/supervisor.ts';
import type { SupervisorStore } from '../persistence/supervisorStore.ts';
import type { SupervisorHost } from './hostApi.ts';
import { notFound } from './hostErrors.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` can name a supervisor: anything else is not found without a query. */
export function isSupervisorId(id: string): boolean {
  return UUID.test(id);
}

/** The reads of the host; refused only while the database is lost (a stopping runtime still reads). */
export abstract class StoredReads
  implements
    Pick<
      SupervisorHost,
      | 'get'
      | 'list'
      | 'countByState'
      | 'countPendingQuestions'
      | 'countByStateValue'
      | 'timeInState'
      | 'history'
      | 'journal'
      | 'checkpoints'
      | 'keyedEntries'
    >
{
  protected abstract readonly store: SupervisorStore;
  /** Throws while the database is lost: reads go to it. */
  protected abstract refuseIfDatabaseLost(): void;

  async get(id: string): Promise<SupervisorState> {
    const stored = isSupervisorId(id) ? await this.#read(() => this.store.getSupervisor(id)) : null;
    if (!stored) throw notFound(id);
    return stored;
  }

  list(filter?: Parameters<SupervisorHost['list']>[0]) {
    return this.#read(() => this.store.listSupervisors(filter));
  }

  countByState() {
    return this.#read(() => this.store.countByState());
  }

  countPendingQuestions() {
    return this.#read(() => this.store.countPendingQuestions());
  }

  countByStateValue(machineId: string, owner?: string) {
    return this.#read(() => this.store.countByStateValue(machineId, owner));
  }

  timeInState(machineId: string, owner?: string) {
    return this.#read(() => this.store.timeInState(machineId, owner));
  }

  async history(id: string, limit = 50) {
    if (!isSupervisorId(id)) return [];
    return (await this.#read(() => this.store.recentHistory([id], limit))).get(id) ?? [];
  }

  async journal(id: string, page: { before?: number; limit: number }) {
    if (!isSupervisorId(id)) return [];
    return this.#read(() => this.store.journalPage(id, page));
  }

  async checkpoints(id: string, limit?: number) {
    if (!isSupervisorId(id)) return [];
    return this.#read(() => this.store.listCheckpoints(id, limit));
  }

  keyedEntries(key: string, since: Date) {
    return this.#read(() => this.store.keyedEntries(key, since));
  }

  async #read<T>(read: () => Promise<T>): Promise<T> {
    this.refuseIfDatabaseLost();
    return read();
  }
}
