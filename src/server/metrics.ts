import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { LIFECYCLE_STATES } from '../model/supervisor.ts';
import type { SupervisorHost } from '../runtime/supervisorHost.ts';

/** The runtime's Prometheus metrics, in a registry of their own (several servers per process in tests). */
export interface ServerMetrics {
  registry: Registry;
  questionsDelivered: Counter;
  answers: Counter<'outcome'>;
  badFrames: Counter<'code'>;
  authFailures: Counter;
  slowClientsDropped: Counter;
  webhookDeliveries: Counter<'outcome'>;
  /** Finished supervisors deleted by retention (the sweep and `DELETE /supervisors/:id`). */
  retentionDeleted: Counter;
  clients: Gauge;
  /** For the snapshot writer's `onBatch`: counts and times every committed batch. */
  observeBatch(stats: { rows: number; ms: number }): void;
  /** Reads fleet counts from the host at scrape time. */
  attach(host: SupervisorHost): void;
}

/** Creates the metrics; `attach` the host once it exists. */
export function createServerMetrics(): ServerMetrics {
  const registry = new Registry();
  let host: SupervisorHost | undefined;
  const transitionsPersisted = new Counter({
    name: 'steward_transitions_persisted_total',
    help: 'Supervisor snapshots committed to the database',
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'steward_write_batch_size',
    help: 'Supervisors written per group commit',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [registry],
  });
  const commitSeconds = new Histogram({
    name: 'steward_commit_seconds',
    help: 'Time from sending a group commit to its reply',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  new Gauge({
    name: 'steward_supervisors',
    help: 'Stored supervisors by lifecycle state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      if (!host) return;
      const counts = await host.countByState();
      for (const state of LIFECYCLE_STATES) this.set({ state }, counts[state]);
    },
  });
  new Gauge({
    name: 'steward_supervisors_in_memory',
    help: 'Supervisors whose actors run in this process',
    registers: [registry],
    collect() {
      if (host) this.set(host.size());
    },
  });
  new Gauge({
    name: 'steward_supervisors_passivated',
    help: 'Supervisors running in this process but out of memory while idle',
    registers: [registry],
    collect() {
      if (host) this.set(host.passivated());
    },
  });
  new Gauge({
    name: 'steward_node_slices',
    help: 'Several nodes: the slices this node holds',
    registers: [registry],
    collect() {
      if (host?.slices) this.set(host.slices.status().slicesHeld);
    },
  });
  new Gauge({
    name: 'steward_node_leases',
    help: "Several nodes: what this node's leases went through since its start, by event",
    labelNames: ['event'],
    registers: [registry],
    collect() {
      const status = host?.slices?.status();
      if (!status) return;
      this.set({ event: 'renewed' }, status.leasesRenewed);
      this.set({ event: 'lost' }, status.leasesLost);
      this.set({ event: 'taken' }, status.slicesTaken);
      this.set({ event: 'given_back' }, status.slicesGivenBack);
    },
  });
  new Gauge({
    name: 'steward_node_forwarded_calls',
    help: 'Several nodes: calls sent to the node owning their supervisor (sent), and served here for other nodes (served)',
    labelNames: ['direction'],
    registers: [registry],
    collect() {
      const status = host?.slices?.status();
      if (!status) return;
      this.set({ direction: 'sent' }, status.callsForwarded);
      this.set({ direction: 'served' }, status.callsServed);
    },
  });
  new Gauge({
    name: 'steward_questions_pending',
    help: 'Questions asked and not yet answered, across the fleet',
    registers: [registry],
    async collect() {
      if (host) this.set(await host.countPendingQuestions());
    },
  });
  return {
    registry,
    questionsDelivered: new Counter({
      name: 'steward_questions_delivered_total',
      help: 'question.asked frames sent to clients (re-deliveries included)',
      registers: [registry],
    }),
    answers: new Counter({
      name: 'steward_answers_total',
      help: 'Answers received, by outcome: applied, duplicate, refused',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    badFrames: new Counter({
      name: 'steward_bad_frames_total',
      help: 'Inbound frames refused, by error code',
      labelNames: ['code'],
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'steward_auth_failures_total',
      help: 'Requests and connections refused for a missing or wrong token',
      registers: [registry],
    }),
    slowClientsDropped: new Counter({
      name: 'steward_slow_clients_dropped_total',
      help: 'WebSocket clients dropped because they did not read their frames',
      registers: [registry],
    }),
    retentionDeleted: new Counter({
      name: 'steward_retention_deleted_total',
      help: 'Finished supervisors deleted with their journal, checkpoints and tasks (retention)',
      registers: [registry],
    }),
    webhookDeliveries: new Counter({
      name: 'steward_webhook_deliveries_total',
      help: 'Webhook requests, by outcome: delivered, failed (retried), dropped (queue full)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    clients: new Gauge({
      name: 'steward_ws_clients',
      help: 'Connected WebSocket clients',
      registers: [registry],
    }),
    observeBatch({ rows, ms }) {
      transitionsPersisted.inc(rows);
      batchSize.observe(rows);
      commitSeconds.observe(ms / 1000);
    },
    attach(attached) {
      host = attached;
    },
  };
}
