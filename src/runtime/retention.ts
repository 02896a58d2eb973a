// Retention: supervisors finished longer ago than the configured time leave the database
// with their journal, checkpoints and task rows, in small batches, so live rows are never
// held up for long and the table does not grow without bound.
import type { Logger } from '../logger.ts';
import type { RetentionStore } from '../persistence/retentionRepository.ts';

/**
 * Deleting one finished supervisor by hand (`DELETE /supervisors/:id`), as the server sees
 * it: through the runtime, which alone may name the persistence.
 */
export type SupervisorDeletion = Pick<RetentionStore, 'deleteOne'>;

/** How retention runs. */
export interface RetentionOptions {
  store: Pick<RetentionStore, 'deleteFinished'>;
  /** A supervisor finished longer ago than this is deleted; 0 keeps everything. */
  retainFinishedMs: number;
  log: Logger;
  /** Supervisors per delete statement (one short transaction each). Default 500. */
  batchSize?: number;
  /** Pause between two batches, so live work runs between them. Default 50 ms. */
  pauseMs?: number;
  /** How often a sweep runs. Default every 10 minutes. */
  intervalMs?: number;
  /** Delay of the first sweep after start (restoration is done by then). Default 1 s. */
  firstSweepAfterMs?: number;
  /** Told of every batch deleted (the metric). */
  onDeleted?: (count: number) => void;
}

/** What one sweep did. */
export interface SweepReport {
  deleted: number;
  batches: number;
}

/** Deletes finished supervisors past their retention, batch by batch, every interval. */
export class RetentionSweeper {
  readonly #options: RetentionOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<SweepReport> | undefined;
  #stopped = false;

  constructor(options: RetentionOptions) {
    this.#options = options;
  }

  /** Sweeps after `firstSweepAfterMs`, then every `intervalMs`. Nothing with retention 0. */
  start(): void {
    if (this.#options.retainFinishedMs <= 0 || this.#stopped) return;
    this.#schedule(this.#options.firstSweepAfterMs ?? 1_000);
  }

  /**
   * One sweep now: batches until one comes back short. A sweep already under way is
   * joined, not doubled. A database error ends the sweep (logged); the next one retries.
   */
  sweep(): Promise<SweepReport> {
    this.#running ??= this.#sweep().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** No sweep after this; resolves when the one under way has stopped between batches. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(() => {
      void this.sweep().finally(() => {
        if (!this.#stopped) this.#schedule(this.#options.intervalMs ?? 600_000);
      });
    }, ms);
    this.#timer.unref();
  }

  async #sweep(): Promise<SweepReport> {
    const { store, log, retainFinishedMs, onDeleted } = this.#options;
    const batchSize = this.#options.batchSize ?? 500;
    const pauseMs = this.#options.pauseMs ?? 50;
    const report: SweepReport = { deleted: 0, batches: 0 };
    if (retainFinishedMs <= 0) return report;
    // Fixed for the whole sweep: what finishes meanwhile waits for the next one.
    const finishedBefore = new Date(Date.now() - retainFinishedMs);
    const started = performance.now();
    try {
      while (!this.#stopped) {
        const ids = await store.deleteFinished(finishedBefore, batchSize);
        if (ids.length === 0) break;
        report.batches++;
        report.deleted += ids.length;
        onDeleted?.(ids.length);
        log.info(
          { batch: report.batches, deleted: ids.length, total: report.deleted, finishedBefore },
          `retention: deleted ${ids.length} finished supervisors (${report.deleted} this sweep)`,
        );
        if (ids.length < batchSize) break;
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    } catch (error) {
      log.warn(
        { err: error, deleted: report.deleted },
        'retention sweep stopped by an error; the next one retries',
      );
    }
    if (report.deleted > 0) {
      log.info(
        { ...report, ms: Math.round(performance.now() - started) },
        `retention: sweep done, ${report.deleted} finished supervisors deleted`,
      );
    }
    return report;
  }
}
