// The lease keeper: which slices this node may act for, kept in step with `slice_leases`.
// It renews what it holds well inside the TTL, takes free or expired slices up to its
// fair share, gives the surplus back when other nodes hold less than theirs, and stops
// acting for a slice by its own deadline, before the lease can expire in the database,
// whether or not the database answers. It knows nothing of supervisors: the host does what
// a slice taken, yielded or lost means for them, through `LeaseHooks`.
import type { Logger } from '../../logger.ts';
import { silentLogger } from '../../logger.ts';
import type { SliceLease } from '../../model/slices.ts';
import type { GrantedLease, RuntimeNode, SliceLeaseStore } from '../../persistence/sliceLeases.ts';
import { fairShare, slicesToGiveBack } from './fairShare.ts';
import { HeldLeases } from './heldLeases.ts';
import type {
  LeaseCounters,
  LeaseHooks,
  LeaseKeeperOptions,
  LeaseLossReason,
  TakenLease,
} from './leaseOptions.ts';
import { generateNodeId } from './nodeId.ts';

export type {
  LeaseCounters,
  LeaseHooks,
  LeaseKeeperOptions,
  LeaseLossReason,
  TakenLease,
} from './leaseOptions.ts';

type Phase = 'idle' | 'running' | 'stopping' | 'stopped';

/**
 * Keeps this node's share of the slices. Every `renewEveryMs`: renew the leases held,
 * heartbeat, take free or expired slices up to the fair share, give a few back when
 * holding more than the share while others hold less. A renewal sets each slice's
 * deadline to the time the renewal was SENT plus the lease's duration minus the safety
 * margin; a timer loses the slices whose deadline passes, so a node cut off from the
 * database stops acting for them before anyone else can take them, and keeps trying.
 *
 * @example
 * const keeper = new LeaseKeeper({ store: createSliceLeaseStore(db), hooks: host.sliceHooks });
 * await keeper.start();
 * if (keeper.holds(sliceOf(id))) write(id, keeper.epochOf(sliceOf(id)));
 * await keeper.stop(); // yields and releases every slice, removes the node
 */
export class LeaseKeeper {
  /** This node's id in `runtime_nodes` and `slice_leases`. */
  readonly nodeId: string;
  readonly #store: SliceLeaseStore;
  readonly #hooks: LeaseHooks;
  readonly #address: string | null;
  readonly #ttlMs: number;
  readonly #renewEveryMs: number;
  readonly #marginMs: number;
  readonly #givePerPeriod: number;
  readonly #staleAfterMs: number;
  readonly #forgetAfterMs: number;
  readonly #presence: boolean;
  readonly #departedEveryMs: number;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #held: HeldLeases;
  readonly #counters: LeaseCounters = {
    leasesRenewed: 0,
    leasesLost: 0,
    slicesTaken: 0,
    slicesGivenBack: 0,
  };
  #phase: Phase = 'idle';
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #periodTimer: NodeJS.Timeout | undefined;
  #departedTimer: NodeJS.Timeout | undefined;
  /** A period is due as soon as the one in flight ends. */
  #again = false;
  #period: Promise<void> | undefined;
  #givingBack: Promise<void> | undefined;
  #failing = false;
  #suspended = false;

  constructor(options: LeaseKeeperOptions) {
    this.nodeId = options.nodeId ?? generateNodeId();
    this.#store = options.store;
    this.#hooks = options.hooks;
    this.#address = options.address ?? null;
    this.#ttlMs = options.ttlMs ?? 10_000;
    this.#renewEveryMs = options.renewEveryMs ?? this.#ttlMs / 3;
    this.#marginMs = options.safetyMarginMs ?? this.#ttlMs / 5;
    this.#givePerPeriod = options.givePerPeriod ?? 16;
    this.#staleAfterMs = options.staleAfterMs ?? this.#ttlMs;
    this.#forgetAfterMs = options.forgetAfterMs ?? 60 * this.#ttlMs;
    this.#presence = options.presence ?? false;
    this.#departedEveryMs = options.departedEveryMs ?? Math.min(1_000, this.#renewEveryMs);
    this.#log = (options.log ?? silentLogger).child({ nodeId: this.nodeId });
    this.#now = options.now ?? (() => performance.now());
    this.#held = new HeldLeases(this.#now, (slices) => this.#lose(slices, 'deadline'));
    if (this.#renewEveryMs <= 0 || this.#renewEveryMs >= this.#ttlMs - this.#marginMs) {
      throw new RangeError(
        `renewEveryMs (${this.#renewEveryMs}) must be above 0 and below ttlMs - safetyMarginMs (${this.#ttlMs - this.#marginMs}): a lease would be lost between two renewals`,
      );
    }
  }

  /**
   * Registers the node and takes its fair share, then keeps it every period. Rejects only
   * when the node cannot be registered (nothing is held then; call again to retry); a
   * database lost later is a state the keeper lives through. Idempotent.
   */
  start(): Promise<void> {
    this.#starting ??= this.#start().catch((error: unknown) => {
      this.#starting = undefined;
      this.#phase = 'idle';
      throw error;
    });
    return this.#starting;
  }

  /**
   * Gives every slice back (`yielding`, then released even if it rejects: the node is
   * leaving), removes the node's row and stops. Database errors are logged: leases not
   * released expire on their own. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  /**
   * The node's session ended (its presence lock with it): other nodes may take its slices
   * from now on, so it stops acting for every one at once, and takes none until `resume`.
   */
  suspend(): void {
    this.#suspended = true;
    if (this.#held.size > 0) this.#lose(this.#held.highest(this.#held.size), 'presence');
  }

  /**
   * The session is back: ends the leases still recorded under this node (it acts for none
   * of them) and runs a period at once, taking its share anew. Rejects, still suspended,
   * when the database step fails.
   */
  async resume(): Promise<void> {
    if (!this.#suspended || this.#phase !== 'running') return;
    await this.#store.expireLeasesOf(this.nodeId);
    this.#suspended = false;
    await this.#period;
    clearTimeout(this.#periodTimer);
    if (this.#phase === 'running') await this.#runPeriod();
  }

  /** The epoch under which this node holds `slice`, or `undefined` when it does not. */
  epochOf(slice: number): number | undefined {
    return this.#held.epochOf(slice);
  }

  /** True while this node may act for the supervisors of `slice`. */
  holds(slice: number): boolean {
    return this.#held.has(slice);
  }

  /** The slices held, lowest first, with their epochs. */
  held(): SliceLease[] {
    return this.#held.list();
  }

  /** A copy of the counters. */
  get counters(): LeaseCounters {
    return { ...this.#counters };
  }

  async #start(): Promise<void> {
    if (this.#phase !== 'idle') return;
    this.#phase = 'running';
    await this.#store.registerNode(this.nodeId, this.#address);
    this.#log.info({ ttlMs: this.#ttlMs }, 'lease keeper: node registered');
    await this.#runPeriod();
    if (this.#presence) {
      this.#departedTimer = setInterval(() => void this.#lookForDeparted(), this.#departedEveryMs);
      this.#departedTimer.unref();
    }
  }

  /** A node found gone leaves slices to take now, not at the next period. */
  async #lookForDeparted(): Promise<void> {
    if (this.#phase !== 'running' || this.#suspended || this.#period) return;
    const gone = await this.#attempt('departed', () => this.#store.expireDeparted(this.nodeId));
    if (!gone || gone.length === 0) return;
    this.#log.info({ nodes: gone }, 'lease keeper: nodes gone; taking their slices');
    if (this.#period) this.#again = true;
    else if (this.#phase === 'running') {
      clearTimeout(this.#periodTimer);
      void this.#runPeriod();
    }
  }

  // Periods go on while stopping, renewing only, so that the slices stay held while the
  // host flushes them; the node's row goes last, after the last heartbeat.
  async #stop(): Promise<void> {
    await this.#starting?.catch(() => {});
    const wasRunning = this.#phase === 'running';
    this.#phase = 'stopping';
    await this.#givingBack;
    if (this.#held.size > 0) {
      await this.#giveBack(this.#held.highest(this.#held.size), { leaving: true });
    }
    this.#phase = 'stopped';
    clearTimeout(this.#periodTimer);
    clearInterval(this.#departedTimer);
    await this.#period;
    this.#held.close();
    if (wasRunning) {
      await this.#store.removeNode(this.nodeId).catch((error: unknown) => {
        this.#log.warn({ err: error }, 'lease keeper: node row not removed; it goes stale');
      });
    }
    this.#phase = 'stopped';
    this.#log.info(this.counters, 'lease keeper: stopped');
  }

  /** One period, then the next one scheduled from when this one began. */
  async #runPeriod(): Promise<void> {
    const began = this.#now();
    this.#again = false;
    this.#period = this.#periodSteps();
    await this.#period;
    this.#period = undefined;
    if (this.#phase !== 'running' && this.#phase !== 'stopping') return;
    const wait = this.#again ? 0 : Math.max(0, this.#renewEveryMs - (this.#now() - began));
    this.#periodTimer = setTimeout(() => void this.#runPeriod(), wait);
    this.#periodTimer.unref();
  }

  // Renewal first: it is what keeps the slices; the others only change them.
  async #periodSteps(): Promise<void> {
    if (this.#suspended) return;
    await this.#attempt('renew', () => this.#renew());
    if (this.#phase !== 'running') return;
    if (this.#presence) {
      await this.#attempt('departed', () => this.#store.expireDeparted(this.nodeId));
    }
    const nodes = await this.#attempt('heartbeat', () =>
      this.#store.heartbeatNode(this.nodeId, this.#address, {
        staleAfterMs: this.#staleAfterMs,
        forgetAfterMs: this.#forgetAfterMs,
      }),
    );
    if (nodes === undefined || this.#phase !== 'running') return;
    await this.#attempt('take', () => this.#takeShare(nodes));
    this.#startGivingBack(nodes);
  }

  /** Runs a database step; a failure is logged once until a step succeeds again. */
  async #attempt<T>(step: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      const result = await fn();
      if (this.#failing) this.#log.info({ step }, 'lease keeper: database answers again');
      this.#failing = false;
      return result;
    } catch (error) {
      if (!this.#failing) {
        this.#log.warn(
          { err: error, step, held: this.#held.size },
          'lease keeper: database step failed; slices not renewed in time are lost at their deadline, and the keeper keeps trying',
        );
      }
      this.#failing = true;
      return undefined;
    }
  }

  async #renew(): Promise<void> {
    const sent = this.held();
    if (sent.length === 0) return;
    const sentAt = this.#now();
    const renewed = await this.#store.renewLeases(this.nodeId, sent, this.#ttlMs);
    const granted = new Map(renewed.map((lease) => [lease.slice, lease]));
    const refused: number[] = [];
    const late: number[] = [];
    // Renewed in the database but no longer held here (lost to the deadline meanwhile):
    // nobody acts for them, so they are freed rather than left to expire.
    const orphans: GrantedLease[] = [];
    for (const lease of sent) {
      const grant = granted.get(lease.slice);
      if (this.#held.epochOf(lease.slice) !== lease.epoch) {
        if (grant) orphans.push(grant);
      } else if (!grant) {
        refused.push(lease.slice);
      } else {
        const deadline = this.#deadlineFor(sentAt, grant);
        if (deadline <= this.#now()) late.push(lease.slice);
        else if (this.#held.extend(lease.slice, lease.epoch, deadline))
          this.#counters.leasesRenewed++;
      }
    }
    if (refused.length > 0) this.#lose(refused, 'refused');
    if (late.length > 0) this.#lose(late, 'deadline');
    if (orphans.length > 0) void this.#releaseQuietly(orphans);
  }

  async #takeShare(nodes: readonly RuntimeNode[]): Promise<void> {
    const wanted = fairShare(nodes.length) - this.#held.size;
    if (wanted <= 0) return;
    const sentAt = this.#now();
    const taken = await this.#store.takeSlices(this.nodeId, wanted, this.#ttlMs);
    const kept: TakenLease[] = [];
    const late: GrantedLease[] = [];
    for (const lease of taken) {
      const deadline = this.#deadlineFor(sentAt, lease);
      if (this.#phase !== 'running' || this.#suspended || deadline <= this.#now()) {
        late.push(lease);
        continue;
      }
      this.#held.hold(lease.slice, lease.epoch, deadline);
      const { slice, epoch, previousNode, wasExpired } = lease;
      kept.push({ slice, epoch, previousNode, wasExpired });
    }
    if (late.length > 0) void this.#releaseQuietly(late);
    if (kept.length === 0) return;
    this.#counters.slicesTaken += kept.length;
    this.#log.info(
      { slices: kept.map((l) => l.slice), failover: kept.filter((l) => l.wasExpired).length },
      `lease keeper: took ${kept.length} slices`,
    );
    this.#callHook('taken', () => this.#hooks.taken(kept));
  }

  /** Gives back the highest slices held, in the background: renewals go on meanwhile. */
  #startGivingBack(nodes: readonly RuntimeNode[]): void {
    if (this.#givingBack !== undefined || this.#phase !== 'running') return;
    const count = slicesToGiveBack({
      held: this.#held.size,
      others: nodes.filter((n) => n.nodeId !== this.nodeId).map((n) => n.slices),
      perPeriod: this.#givePerPeriod,
    });
    if (count === 0) return;
    const slices = this.#held.highest(count);
    this.#givingBack = this.#giveBack(slices, { leaving: false }).finally(() => {
      this.#givingBack = undefined;
    });
  }

  async #giveBack(slices: readonly number[], { leaving }: { leaving: boolean }): Promise<void> {
    const leases = slices.flatMap((slice) => {
      const epoch = this.#held.epochOf(slice);
      return epoch === undefined ? [] : [{ slice, epoch }];
    });
    try {
      await this.#hooks.yielding(slices);
    } catch (error) {
      this.#log.warn({ err: error, slices }, 'lease keeper: yielding failed');
      if (!leaving) return;
    }
    // Not ours to act for from here on, released or not; one lost meanwhile is released too.
    for (const { slice, epoch } of leases) this.#held.release(slice, epoch);
    try {
      const released = await this.#store.releaseSlices(this.nodeId, leases);
      this.#counters.slicesGivenBack += released.length;
      this.#log.info({ slices: released }, `lease keeper: gave back ${released.length} slices`);
    } catch (error) {
      this.#log.warn({ err: error, slices }, 'lease keeper: release failed; the leases expire');
    }
  }

  async #releaseQuietly(leases: readonly SliceLease[]): Promise<void> {
    await this.#store.releaseSlices(this.nodeId, leases).catch((error: unknown) => {
      this.#log.debug({ err: error }, 'lease keeper: release failed; the leases expire');
    });
  }

  /**
   * The local time by which the node stops acting for a lease granted by a statement sent
   * at `sentAt`: the database counted the lease from when it ran the statement, later than
   * `sentAt`, so this is earlier than the expiry whatever the two clocks read (as long as
   * they run at about the same rate).
   */
  #deadlineFor(sentAt: number, lease: GrantedLease): number {
    return sentAt + Math.min(lease.validForMs, this.#ttlMs) - this.#marginMs;
  }

  #lose(slices: number[], reason: LeaseLossReason): void {
    this.#held.drop(slices);
    this.#counters.leasesLost += slices.length;
    this.#log.warn({ slices, reason }, `lease keeper: lost ${slices.length} slices (${reason})`);
    this.#callHook('lost', () => this.#hooks.lost(slices, reason));
  }

  #callHook(name: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#log.error({ err: error, hook: name }, 'lease keeper: a hook threw');
    }
  }
}
