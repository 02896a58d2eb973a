// What holding slices means for the host: it acts only for the supervisors of the slices it
// holds, writes them under the leases' epochs, and lets them go when a slice leaves (given
// back cleanly, or lost).
import { StewardError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { sliceOf } from '../model/slices.ts';
import type { CommitFence } from '../persistence/supervisorStore.ts';
import type { AfterCommit } from './afterCommit.ts';
import type { SliceMembership } from './cluster/membership.ts';
import { idInSlices } from './cluster/slices.ts';
import type { SnapshotWriter } from './commit/snapshotWriter.ts';
import type { LiveSupervisors } from './live/liveSupervisors.ts';
import type { Passivation } from './passivation.ts';
import type { TaskRunner } from './taskRunner.ts';

/** A node's place among several, as `/healthz` shows it. */
export interface NodeStatus {
  nodeId: string;
  slicesHeld: number;
  leasesRenewed: number;
  leasesLost: number;
  slicesTaken: number;
  slicesGivenBack: number;
  /** Calls sent to the node that owns their supervisor. */
  callsForwarded: number;
  /** Calls other nodes sent here, executed. */
  callsServed: number;
}

/** What the duties of a node's slices reach. */
export interface SliceDutiesDeps {
  membership: SliceMembership;
  lives: LiveSupervisors;
  writer: Pick<SnapshotWriter, 'flush' | 'forget' | 'discard'>;
  runner: Pick<TaskRunner, 'stopAll'>;
  effects: Pick<AfterCommit, 'forget'>;
  /** Made after the parts: read when needed. */
  passivation: () => Passivation | undefined;
  log: Logger;
}

/** The host's side of this node's slices. */
export class SliceDuties {
  readonly #deps: SliceDutiesDeps;
  /** Slices being given back: still held (their writes commit) but calls are refused. */
  readonly #leaving = new Set<number>();
  /** Slices just taken whose supervisors are being restored: calls wait for that. */
  readonly #arriving = new Set<number>();

  constructor(deps: SliceDutiesDeps) {
    this.#deps = deps;
  }

  /** This node among several: its id, the slices it holds, what its leases went through. */
  status(): NodeStatus {
    const { membership } = this.#deps;
    return {
      nodeId: membership.nodeId,
      slicesHeld: membership.held().length,
      leasesRenewed: membership.counters?.leasesRenewed ?? 0,
      leasesLost: membership.counters?.leasesLost ?? 0,
      slicesTaken: membership.counters?.slicesTaken ?? 0,
      slicesGivenBack: membership.counters?.slicesGivenBack ?? 0,
      callsForwarded: membership.counters?.callsForwarded ?? 0,
      callsServed: membership.counters?.callsServed ?? 0,
    };
  }

  /** The slices this node acts for now. */
  held(): number[] {
    return this.#deps.membership.held().filter((slice) => this.#acting(slice));
  }

  /** Whether this node acts for supervisor `id` now. */
  owns(id: string): boolean {
    return this.#acting(sliceOf(id));
  }

  #acting(slice: number): boolean {
    if (this.#leaving.has(slice) || this.#arriving.has(slice)) return false;
    return this.#deps.membership.holds(slice);
  }

  /**
   * Slices just taken: calls for their supervisors are refused (to be sent again) until
   * `restore` has put them in service, so that no call restores one on its own meanwhile.
   */
  async arrive<T>(slices: readonly number[], restore: () => Promise<T>): Promise<T> {
    for (const slice of slices) this.#arriving.add(slice);
    try {
      return await restore();
    } finally {
      for (const slice of slices) this.#arriving.delete(slice);
    }
  }

  /** Refuses (`ERR_SUPERVISOR_MOVED`) a call for a supervisor this node does not act for. */
  check(id: string): void {
    if (!this.owns(id)) {
      throw new StewardError(
        'ERR_SUPERVISOR_MOVED',
        `supervisor ${id} is owned by another node (its slice is not held here); nothing was applied: send it again`,
        { supervisorId: id },
      );
    }
  }

  /** An id for a new supervisor, in a slice this node holds (`ERR_NO_SLICES` with none). */
  newId(): string {
    const slices = this.held();
    if (slices.length === 0) {
      throw new StewardError(
        'ERR_NO_SLICES',
        'this node holds no slice yet, so it cannot create a supervisor; send it again shortly (or to another node)',
      );
    }
    return idInSlices(slices);
  }

  /** The leases a commit of these supervisors is written under (-1: not held, refused). */
  fence(ids: readonly string[]): CommitFence {
    const { membership } = this.#deps;
    const slices = new Set(ids.map(sliceOf));
    return {
      nodeId: membership.nodeId,
      leases: [...slices].map((slice) => ({ slice, epoch: membership.epochOf(slice) ?? -1 })),
    };
  }

  /**
   * Gives slices back cleanly: calls for their supervisors are refused from now, every
   * write is flushed (under the leases still held), then they leave memory. The lease is
   * released by the caller once this resolves.
   */
  async giveBack(slices: readonly number[]): Promise<number> {
    for (const slice of slices) this.#leaving.add(slice);
    try {
      await this.#deps.writer.flush();
      return this.drop(slices);
    } finally {
      for (const slice of slices) this.#leaving.delete(slice);
    }
  }

  /**
   * The supervisors of `slices` leave memory at once, unwritten: another node owns them, or
   * will (a lease lost, or rows the fence refused). Nothing acked lives only here.
   */
  drop(slices: readonly number[]): number {
    const leaving = new Set(slices);
    const which = (id: string) => leaving.has(sliceOf(id));
    return this.dropWhere(which);
  }

  /** The given supervisors leave memory at once (their rows were refused by the fence). */
  dropIds(ids: readonly string[]): number {
    const leaving = new Set(ids);
    return this.dropWhere((id) => leaving.has(id));
  }

  dropWhere(which: (id: string) => boolean): number {
    const { lives, runner, writer, effects, passivation, log } = this.#deps;
    writer.discard(which);
    let count = passivation()?.forgetWhere(which) ?? 0;
    for (const live of [...lives.values()]) {
      if (!which(live.id)) continue;
      lives.remove(live.id);
      runner.stopAll(live.id);
      live.stop();
      writer.forget(live.id);
      effects.forget(live.id);
      count++;
    }
    if (count > 0) log.info({ supervisors: count }, 'supervisors left memory with their slices');
    return count;
  }
}
