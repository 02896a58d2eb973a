// The composition root as a library: everything `steward serve` does, for a team that
// embeds Steward in its own process. `steward serve` is a thin shell over it.
import { unwatchFile, watchFile } from 'node:fs';
import type { AnyActorLogic } from 'xstate';
import { clusterNode } from './cluster.ts';
import { type Config, configuredTokens, loadConfig } from './config.ts';
import type { StewardConfig } from './configFile.ts';
import { claimForHost, claimForNode, openWhenReachable } from './databaseClaim.ts';
import { demoStepTask, startDemo } from './demo.ts';
import { devToken } from './devToken.ts';
import { StewardError } from './errors.ts';
import { createLogger, type Logger } from './logger.ts';
import { ReferenceInput, referenceSupervisor } from './machines/referenceSupervisor.ts';
import {
  createMachineRegistry,
  type MachineDefinition,
  type MachineRegistry,
} from './machines/registry.ts';
import type { Database } from './persistence/database.ts';
import { migrate, openDatabase, recordRuntimeStart } from './persistence/index.ts';
import { createRetentionStore } from './persistence/retentionRepository.ts';
import { createSupervisorStore } from './persistence/supervisorStore.ts';
import { RetentionSweeper } from './runtime/retention.ts';
import { createSupervisorHost, type SupervisorHost } from './runtime/supervisorHost.ts';
import { createTokenTable, type TokenGrant } from './server/auth.ts';
import { createAvailability } from './server/availability.ts';
import { createServerMetrics } from './server/metrics.ts';
import { type StewardServer, startServer } from './server/server.ts';
import { startWebhookNotifier } from './server/webhooks.ts';

/** What `createSteward` takes: a config file's content, plus what only code can give. */
export interface StewardOptions extends StewardConfig {
  /** Where the runtime logs; default: JSON lines on stdout at `logLevel`. */
  log?: Logger;
}

/** A running Steward: the host of the supervisors and the server in front of it. */
export interface Steward {
  /** Resolves once every unfinished supervisor is restored and the server listens. */
  readonly ready: Promise<Steward>;
  /** The supervisor host (spawn, send, answer, list, subscribe…). Only after `ready`. */
  readonly host: SupervisorHost;
  /** The HTTP and WebSocket server. Only after `ready`. */
  readonly server: StewardServer;
  /** `http://host:port` the server listens on. Only after `ready`. */
  readonly url: string;
  /** The hosted machines and tasks. */
  readonly registry: MachineRegistry;
  /** The validated options, defaults filled in. */
  readonly config: Config;
  /** Reads the tokens again (the tokens file); a bad file keeps the current tokens. */
  reloadTokens(): Promise<void>;
  /**
   * Stops in reverse order of start: no new work, clients told (1001), every pending
   * write flushed, actors stopped, the claim released, the database closed, all within
   * `shutdownTimeoutMs`; resolves with how many supervisor writes were left unflushed
   * (never acknowledged). Also ends a start still waiting for its database. Idempotent.
   */
  stop(): Promise<StopReport>;
}

/**
 * The machines and tasks of `options`, checked (a machine with an untagged state, inline
 * invoked logic or a duplicate id and version is refused), plus the demo's when it is on.
 */
export function createRegistry(options: {
  machines?: readonly MachineDefinition[] | undefined;
  tasks?: Readonly<Record<string, AnyActorLogic>> | undefined;
  demo?: boolean | undefined;
}): MachineRegistry {
  const registry = createMachineRegistry();
  for (const definition of options.machines ?? []) registry.register(definition);
  for (const [name, logic] of Object.entries(options.tasks ?? {})) {
    registry.registerTask(name, logic);
  }
  if (options.demo) {
    registry.register({
      id: 'reference',
      version: 1,
      machine: referenceSupervisor,
      input: ReferenceInput,
    });
    registry.registerTask('step', demoStepTask());
  }
  return registry;
}

/**
 * Starts a Steward runtime for your machines: opens the database (PostgreSQL at
 * `databaseUrl`, else embedded PGlite in `dataDir`), migrates it, claims it, restores every
 * unfinished supervisor (webhooks hear its questions again), and serves the HTTP API, the
 * WebSocket protocol and the dashboard. Options are checked like a config file's; a bad
 * one throws `ERR_CONFIG_INVALID`, a bad machine `ERR_MACHINE_INVALID`.
 *
 * @example
 * import { createSteward } from 'steward';
 * import { expenseApproval } from './expenseApproval.ts';
 *
 * const steward = await createSteward({
 *   machines: [{ id: 'expense-approval', version: 1, machine: expenseApproval }],
 *   dataDir: './.steward/data',
 *   port: 0,
 * }).ready;
 * console.log(`serving on ${steward.url}`);
 * await steward.host.spawn('expense-approval', { amount: 120 }, { owner: 'alice' });
 * await steward.stop(); // flushes every write
 */
export function createSteward(options: StewardOptions = {}): Steward {
  const { machines, tasks, log: givenLog, ...serveOptions } = options;
  const config = loadConfig({}, {}, { source: 'createSteward options', values: serveOptions });
  const log = givenLog ?? createLogger({ level: config.logLevel });
  const registry = createRegistry({ machines, tasks, demo: config.demo });

  // Aborted by a stop that comes while the runtime still waits for its database.
  const aborted = new AbortController();
  let running: Running | undefined;
  let stopping: Promise<StopReport> | undefined;
  const ready = start(config, registry, log, aborted.signal).then((started) => {
    running = started;
    return steward;
  });
  const started = (what: string): Running => {
    if (running) return running;
    throw new StewardError('ERR_RUNTIME_STOPPED', `${what} is there only once ready resolves`);
  };

  const steward: Steward = {
    ready,
    get host() {
      return started('host').host;
    },
    get server() {
      return started('server').server;
    },
    get url() {
      return started('url').server.url;
    },
    registry,
    config,
    reloadTokens: () => started('reloadTokens').reloadTokens(),
    stop() {
      aborted.abort();
      stopping ??= ready.then(
        () => (running as Running).stop(),
        () => ({ unflushed: 0 }),
      );
      return stopping;
    },
  };
  return steward;
}

/** What a stop leaves behind: supervisor writes not flushed within the shutdown timeout. */
export interface StopReport {
  unflushed: number;
}

interface Running {
  host: SupervisorHost;
  server: StewardServer;
  reloadTokens(): Promise<void>;
  stop(): Promise<StopReport>;
}

/** A step of the stop, bounded by what is left of the shutdown timeout. */
type StopStep = (remainingMs: number) => Promise<unknown> | unknown;

/** Each step of the start; a step that fails undoes those before it, in reverse. */
async function start(
  config: Config,
  registry: MachineRegistry,
  log: Logger,
  signal: AbortSignal,
): Promise<Running> {
  const undo: StopStep[] = [];
  try {
    const db = await openWhenReachable(() => openDatabase(config, log), {
      log,
      waitMs: config.databaseWaitMs,
      signal,
    });
    undo.push(() => db.close());
    log.info({ engine: db.engine, location: db.location }, 'database opened');
    const migrated = await migrate(db, { log });
    log.info(
      { applied: migrated.applied.length, alreadyApplied: migrated.alreadyApplied },
      'database migrated',
    );
    if (signal.aborted) throw new StewardError('ERR_RUNTIME_STOPPED', 'stopped while starting');
    return await startServing(config, db, registry, log, undo);
  } catch (error) {
    await stopSteps(undo, config.shutdownTimeoutMs, log);
    throw error;
  }
}

/** Runs the steps in reverse order of start, each given what is left of `timeoutMs`. */
async function stopSteps(undo: StopStep[], timeoutMs: number, log: Logger): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const step of undo.reverse()) {
    const remaining = Math.max(0, deadline - Date.now());
    let timer: NodeJS.Timeout | undefined;
    // A step that hangs (a close waiting on a dead connection) is left behind at the bound.
    await Promise.race([
      Promise.resolve()
        .then(() => step(remaining))
        .catch((error: unknown) =>
          log.warn({ err: error }, 'a step of the stop failed; the others go on'),
        ),
      new Promise((resolve) => {
        timer = setTimeout(resolve, remaining);
      }),
    ]);
    clearTimeout(timer);
  }
}

/** From an open, migrated database to a runtime that serves: claim, restore, listen. */
async function startServing(
  config: Config,
  db: Database,
  registry: MachineRegistry,
  log: Logger,
  undo: StopStep[],
): Promise<Running> {
  const grants = await loadGrants(config, log);
  const metrics = createServerMetrics();
  const availability = createAvailability();
  const node = config.cluster
    ? clusterNode(db, {
        ttlMs: config.leaseTtlMs,
        address: config.nodeAddress,
        log,
        presence: true,
      })
    : undefined;
  const host = createSupervisorHost({
    ...(node ? { slices: node.membership } : {}),
    store: createSupervisorStore(db),
    registry,
    log,
    writer: { onBatch: metrics.observeBatch },
    passivateAfterMs: config.passivateAfterMs,
    lazyRestore: config.restore === 'lazy',
    commitTimeoutMs: config.commitTimeoutMs,
  });
  metrics.attach(host);
  if (node) await claimForNode(db, node, availability, log, undo);
  else await claimForHost(db, host, availability, log, undo);
  // Claimed (or a node of several), so a refused second runtime records nothing; before
  // restoring, so every question pending now counts this start in its deliveryCount.
  const runtimeStarts = await recordRuntimeStart(db, new Date());
  // Before restoring: the questions a restore asks again are notified again, which is
  // how a notification the last process did not get out is not lost.
  const webhooks =
    config.webhookUrl !== undefined && config.webhookSecret !== undefined
      ? startWebhookNotifier({
          host,
          url: config.webhookUrl,
          secret: config.webhookSecret,
          log,
          onOutcome: (outcome) => metrics.webhookDeliveries.inc({ outcome }),
        })
      : undefined;
  if (webhooks) undo.push(() => webhooks.close());
  // Stopping the host flushes every pending write (what restoring wrote, too) while the
  // webhooks still hear the commits; what the timeout leaves is counted.
  let unflushed = 0;
  undo.push(async (remainingMs) => {
    unflushed = (await host.stop({ timeoutMs: remainingMs })).unflushed;
  });
  // A node of several restores the slices it takes, as it takes them (the join waits for
  // the first ones); it gives them back before the host stops.
  const { restored, failed, deferred } = node
    ? await node.join(host)
    : await host.restoreAll('restart');
  if (node) undo.push(() => node.leave());
  const retentionStore = createRetentionStore(db);
  const retention = new RetentionSweeper({
    store: retentionStore,
    retainFinishedMs: config.retainFinished,
    log,
    onDeleted: (count) => metrics.retentionDeleted.inc(count),
  });
  retention.start();
  undo.push(() => retention.stop());
  // Clients reach any supervisor through any node: the others' go to their owners.
  const served = node ? node.serving(host) : host;
  const server = await startServer({
    host: served,
    tokens: createTokenTable(grants),
    metrics,
    log,
    port: config.port,
    hostname: config.host,
    allowedOrigins: config.allowedOrigins,
    registry,
    runtimeStarts,
    availability,
    retention: retentionStore,
  });
  undo.push(() => server.close());
  const stopDemo = config.demo
    ? startDemo({
        host,
        log,
        ...(config.demoAnswerDelayMs === undefined
          ? {}
          : { answerDelayMs: config.demoAnswerDelayMs }),
      })
    : () => {};
  undo.push(stopDemo);
  log.info(
    {
      url: server.url,
      websocket: `${server.url.replace(/^http/, 'ws')}/ws`,
      engine: db.engine,
      location: db.location,
      machines: registry.list().map((m) => m.id),
      restored,
      failed,
      deferred,
      demo: config.demo,
    },
    `Steward listening on ${server.url} with ${restored} supervisors restored`,
  );

  const reloadTokens = async () => {
    try {
      const { tokens, disconnected } = server.replaceTokens(await loadGrants(config, log));
      log.info({ tokens, disconnected }, 'tokens reloaded');
    } catch (error) {
      log.error(
        { err: error instanceof Error ? error.message : String(error) },
        'tokens not reloaded: the current ones stay',
      );
    }
  };
  // A rotated tokens file is read again without a restart: polled by path, so a file
  // replaced by a rename is seen too.
  const tokensFile = config.tokensFile;
  if (tokensFile !== undefined) {
    watchFile(tokensFile, { interval: 1_000, persistent: false }, (now, before) => {
      if (now.mtimeMs !== before.mtimeMs || now.size !== before.size) void reloadTokens();
    });
    undo.push(() => unwatchFile(tokensFile));
  }

  let stopped: Promise<StopReport> | undefined;
  return {
    host: served,
    server,
    reloadTokens,
    stop() {
      stopped ??= (async () => {
        log.info(
          { timeoutMs: config.shutdownTimeoutMs },
          'shutting down: no new work, flushing every pending write',
        );
        await stopSteps(undo, config.shutdownTimeoutMs, log);
        if (unflushed > 0) {
          log.warn(
            { unflushed },
            `Steward runtime stopped with ${unflushed} supervisor writes not flushed within the shutdown timeout; none was acknowledged, so nothing acknowledged is lost`,
          );
        } else log.info('Steward runtime stopped');
        return { unflushed };
      })();
      return stopped;
    },
  };
}

/** The configured tokens, or the generated admin token when none is configured. */
async function loadGrants(config: Config, log: Logger): Promise<TokenGrant[]> {
  const grants = configuredTokens(config);
  if (grants.length > 0) return grants;
  log.warn(
    { tokenFile: config.devTokenFile },
    `no tokens configured: using the generated admin token in ${config.devTokenFile}`,
  );
  return [{ token: await devToken(config.devTokenFile), admin: true }];
}
