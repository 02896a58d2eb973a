import { unwatchFile, watchFile } from 'node:fs';
import { type Config, configuredTokens } from './config.ts';
import { startDemo } from './demo.ts';
import { devToken } from './devToken.ts';
import { StewardError } from './errors.ts';
import type { Logger } from './logger.ts';
import type { MachineRegistry } from './machines/registry.ts';
import type { Database } from './persistence/database.ts';
import { createSupervisorStore } from './persistence/supervisorStore.ts';
import { createSupervisorHost } from './runtime/supervisorHost.ts';
import { createTokenTable, type TokenGrant } from './server/auth.ts';
import { createServerMetrics } from './server/metrics.ts';
import { startServer } from './server/server.ts';
import { startWebhookNotifier } from './server/webhooks.ts';

/**
 * `steward serve`: restores every unfinished supervisor, then serves HTTP and WebSocket on
 * one port until SIGINT or SIGTERM, then shuts down in reverse order, flushing every write.
 */
export async function serve(
  config: Config,
  db: Database,
  registry: MachineRegistry,
  log: Logger,
): Promise<void> {
  // Two runtimes restoring and writing the same supervisors would undo each other's
  // commits: the second one refuses to start.
  const release = await db.claimRuntime((error) => {
    log.fatal(
      { err: error.message },
      'lost the claim on the database: another runtime may take over, so this one stops now',
    );
    process.exit(70);
  });
  if (!release) {
    throw new StewardError(
      'ERR_RUNTIME_ALREADY_RUNNING',
      `another Steward runtime is serving ${db.location}; stop it first (several runtimes on one database are not supported yet)`,
      { location: db.location },
    );
  }
  try {
    await serveClaimed(config, db, registry, log);
  } finally {
    await release();
  }
}

async function serveClaimed(
  config: Config,
  db: Database,
  registry: MachineRegistry,
  log: Logger,
): Promise<void> {
  const grants = await loadGrants(config, log);
  const metrics = createServerMetrics();
  const host = createSupervisorHost({
    store: createSupervisorStore(db),
    registry,
    log,
    writer: { onBatch: metrics.observeBatch },
    passivateAfterMs: config.passivateAfterMs,
  });
  metrics.attach(host);
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
  const { restored, failed } = await host.restoreAll('restart');
  const server = await startServer({
    host,
    tokens: createTokenTable(grants),
    metrics,
    log,
    port: config.port,
    hostname: config.host,
    allowedOrigins: config.allowedOrigins,
    registry,
  }).catch(async (error: unknown) => {
    // The restore's writes (restoration counts, questions asked again) are flushed first.
    await host.stop();
    webhooks?.close();
    throw error;
  });
  const stopDemo = config.demo
    ? startDemo({
        host,
        log,
        ...(config.demoAnswerDelayMs === undefined
          ? {}
          : { answerDelayMs: config.demoAnswerDelayMs }),
      })
    : () => {};
  log.info(
    {
      url: server.url,
      websocket: `${server.url.replace(/^http/, 'ws')}/ws`,
      engine: db.engine,
      location: db.location,
      machines: registry.list().map((m) => m.id),
      restored,
      failed,
      demo: config.demo,
    },
    `Steward listening on ${server.url} with ${restored} supervisors restored; press Ctrl+C to stop`,
  );
  // A rotated tokens file is read again without a restart: when it changes (polled by
  // path, so a file replaced by a rename is seen too), or on SIGHUP.
  const reload = () => {
    loadGrants(config, log)
      .then((next) => {
        const { tokens, disconnected } = server.replaceTokens(next);
        log.info({ tokens, disconnected }, 'tokens reloaded');
      })
      .catch((error: unknown) =>
        log.error(
          { err: error instanceof Error ? error.message : String(error) },
          'tokens not reloaded: the current ones stay',
        ),
      );
  };
  process.on('SIGHUP', reload);
  const tokensFile = config.tokensFile;
  if (tokensFile !== undefined) {
    watchFile(tokensFile, { interval: 1_000, persistent: false }, (now, before) => {
      if (now.mtimeMs !== before.mtimeMs || now.size !== before.size) reload();
    });
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.off('SIGHUP', reload);
  if (tokensFile !== undefined) unwatchFile(tokensFile);
  log.info({ signal }, 'shutting down: no new work, flushing every pending write');
  // A second signal while flushing means "now": leave without waiting.
  const force = () => process.exit(1);
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  stopDemo();
  await server.close();
  await host.stop();
  webhooks?.close();
  log.info('Steward runtime stopped');
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
