// The LISTEN connection when the database is closed: an error its connection reports
// after it went back (the server ending it while it closes) must not release it again.

import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/persistence/database.ts';
import { openPgDatabase } from '../../src/persistence/pgDatabase.ts';
import { describePostgresOnly } from '../helpers/engines.ts';
import { proxiedUrl } from '../helpers/faultRuntime.ts';
import { waitFor } from '../helpers/waitFor.ts';

describePostgresOnly('closing a database that listens', (engine) => {
  let direct: Database;

  beforeAll(async () => {
    direct = await engine.openMigrated();
  });
  afterAll(async () => {
    await direct.close();
  });

  it('ignores the server ending its LISTEN connection while it closes', async () => {
    const { proxy, url } = await proxiedUrl(direct);
    const db = await openPgDatabase({ connectionString: url, max: 2 });
    const channel = `close_test_${process.pid}`;
    await db.listen(channel, () => {});
    const directUrl = new URL(url);
    directUrl.host = new URL(process.env.DATABASE_URL as string).host;
    const admin = new pg.Client({ connectionString: directUrl.toString() });
    await admin.connect();
    // The failure it guards against is thrown from the connection's error event.
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const listener = async () =>
        (
          await admin.query<{ pid: number }>(
            `SELECT pid FROM pg_stat_activity WHERE query = $1 AND pid <> pg_backend_pid()`,
            [`LISTEN "${channel}"`],
          )
        ).rows[0]?.pid;
      await waitFor('the LISTEN connection', async () => (await listener()) !== undefined);
      const pid = await listener();
      // The close's Terminate never reaches the server: the connection is still open, back
      // in the pool, when the server ends it and says so (FATAL 57P01).
      proxy.holdRequests();
      const closed = db.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await waitFor('its backend to end', async () => (await listener()) === undefined);
      await new Promise((resolve) => setTimeout(resolve, 200));
      proxy.cut();
      await closed;
      proxy.restore();
      expect(uncaught.map(String)).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await admin.end();
    }
  });
});
