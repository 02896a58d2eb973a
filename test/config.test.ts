import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { isStewardError } from '../src/errors.ts';
import { openDatabase } from '../src/persistence/openDatabase.ts';

function configError(env: NodeJS.ProcessEnv): Error {
  try {
    loadConfig(env);
  } catch (error) {
    expect(isStewardError(error, 'ERR_CONFIG_INVALID')).toBe(true);
    return error as Error;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('defaults to embedded PGlite in ./.steward/data', () => {
    expect(loadConfig({})).toMatchObject({ dataDir: './.steward/data', logLevel: 'info' });
    expect(loadConfig({}).databaseUrl).toBeUndefined();
  });

  it('takes a PostgreSQL URL', () => {
    const url = 'postgres://me:pw@db.example:6543/steward';
    expect(loadConfig({ DATABASE_URL: url }).databaseUrl).toBe(url);
  });

  it('refuses a URL that is not PostgreSQL, naming the variable but not the value', () => {
    const error = configError({ DATABASE_URL: 'mysql://me:hunter2@db/x' });
    expect(error.message).toMatch(/^DATABASE_URL is invalid/);
    expect(error.message).not.toContain('hunter2');
  });

  it('passivates idle supervisors after 10 minutes unless told otherwise', () => {
    expect(loadConfig({}).passivateAfterMs).toBe(600_000);
    expect(loadConfig({ STEWARD_PASSIVATE_AFTER_MS: '0' }).passivateAfterMs).toBe(0);
    expect(loadConfig({}, { passivateAfterMs: '5000' }).passivateAfterMs).toBe(5_000);
    expect(configError({ STEWARD_PASSIVATE_AFTER_MS: '-1' }).message).toMatch(
      /^STEWARD_PASSIVATE_AFTER_MS is invalid/,
    );
  });

  it('keeps finished supervisors 30 days unless told otherwise, as a duration or ms', () => {
    expect(loadConfig({}).retainFinished).toBe(30 * 86_400_000);
    expect(loadConfig({ STEWARD_RETAIN_FINISHED: '12h' }).retainFinished).toBe(12 * 3_600_000);
    expect(loadConfig({}, { retainFinished: '90m' }).retainFinished).toBe(90 * 60_000);
    expect(loadConfig({ STEWARD_RETAIN_FINISHED: '0' }).retainFinished).toBe(0);
    expect(
      loadConfig({}, {}, { source: 'steward.config.ts', values: { retainFinished: 5000 } })
        .retainFinished,
    ).toBe(5000);
    for (const bad of ['forever', '-1d', '1.5.3']) {
      expect(configError({ STEWARD_RETAIN_FINISHED: bad }).message).toMatch(
        /^STEWARD_RETAIN_FINISHED is invalid: must be a duration such as 30d/,
      );
    }
  });

  it('joins a cluster by default on PostgreSQL and only there, with a lease TTL of at least a second', () => {
    const pg = { DATABASE_URL: 'postgres://steward@db.internal:5432/steward' };
    expect(
      loadConfig({ ...pg, STEWARD_CLUSTER: 'on', STEWARD_LEASE_TTL_MS: '4000' }),
    ).toMatchObject({
      cluster: true,
      leaseTtlMs: 4000,
    });
    expect(loadConfig(pg)).toMatchObject({ cluster: true, leaseTtlMs: 10_000 });
    expect(loadConfig({ ...pg, STEWARD_CLUSTER: 'off' })).toMatchObject({ cluster: false });
    expect(loadConfig({})).toMatchObject({ cluster: false });
    expect(configError({ STEWARD_CLUSTER: 'on' }).message).toBe(
      'STEWARD_CLUSTER is invalid: needs PostgreSQL (DATABASE_URL)',
    );
    expect(
      configError({ ...pg, STEWARD_CLUSTER: 'on', STEWARD_LEASE_TTL_MS: '10' }).message,
    ).toMatch(/^STEWARD_LEASE_TTL_MS is invalid/);
  });

  it('takes a webhook URL only with its signing secret, and only over http(s)', () => {
    const secret = 'webhook-secret-0123456789';
    expect(
      loadConfig({
        STEWARD_WEBHOOK_URL: 'https://hooks.example/steward',
        STEWARD_WEBHOOK_SECRET: secret,
      }),
    ).toMatchObject({ webhookUrl: 'https://hooks.example/steward', webhookSecret: secret });
    expect(configError({ STEWARD_WEBHOOK_URL: 'https://hooks.example/x' }).message).toBe(
      'STEWARD_WEBHOOK_SECRET is invalid: is required with STEWARD_WEBHOOK_URL',
    );
    expect(
      configError({ STEWARD_WEBHOOK_URL: 'ftp://hooks.example/x', STEWARD_WEBHOOK_SECRET: secret })
        .message,
    ).toMatch(/^STEWARD_WEBHOOK_URL is invalid/);
    const short = configError({
      STEWARD_WEBHOOK_URL: 'https://h.example',
      STEWARD_WEBHOOK_SECRET: 'short-x',
    });
    expect(short.message).toMatch(/^STEWARD_WEBHOOK_SECRET is invalid/);
    expect(short.message).not.toContain('short-x');
  });

  it('refuses a bad log level and a bad port', () => {
    expect(configError({ LOG_LEVEL: 'loud' }).message).toMatch(/^LOG_LEVEL/);
    expect(configError({ PORT: 'eighty' }).message).toMatch(/^PORT/);
  });
});

describe('openDatabase', () => {
  it('names host and port, never the password, when the server is unreachable', async () => {
    const error = await openDatabase({
      databaseUrl: 'postgres://me:hunter2@127.0.0.1:1/steward',
      dataDir: 'unused',
    }).catch((e: unknown) => e);
    expect(isStewardError(error, 'ERR_DATABASE_UNREACHABLE')).toBe(true);
    expect((error as Error).message).toContain('127.0.0.1:1');
    expect((error as Error).message).not.toContain('hunter2');
  });
});

describe('loadConfig: server settings', () => {
  it('serves on 7420 with the demo by default; flags override the environment', () => {
    expect(loadConfig({})).toMatchObject({ port: 7420, host: '127.0.0.1', demo: true });
    const config = loadConfig({ PORT: '8000', STEWARD_DEMO: 'on' }, { port: '0', demo: 'off' });
    expect(config).toMatchObject({ port: 0, demo: false });
  });

  it('reads owner:token pairs, *:token as admin, and never echoes a token', () => {
    const tokens = loadConfig({
      STEWARD_TOKENS: 'alice:alice-secret-0123456789, *:root-secret-0123456789',
    }).tokens;
    expect(tokens).toEqual([
      { token: 'alice-secret-0123456789', owner: 'alice', admin: false, roles: [] },
      { token: 'root-secret-0123456789', admin: true, roles: [] },
    ]);
    const error = configError({ STEWARD_TOKENS: 'alice:short-secret' });
    expect(error.message).toMatch(/^STEWARD_TOKENS is invalid: tokens must have at least 16/);
    expect(error.message).not.toContain('short-secret');
    expect(JSON.stringify((error as { details?: unknown }).details)).not.toContain('short-secret');
    expect(configError({ STEWARD_TOKENS: 'no-colon-here-0123456789' }).message).toMatch(
      /owner:token/,
    );
  });

  it('splits allowed origins', () => {
    expect(
      loadConfig({ STEWARD_ALLOWED_ORIGINS: 'https://a.example, https://b.example' })
        .allowedOrigins,
    ).toEqual(['https://a.example', 'https://b.example']);
  });
});
