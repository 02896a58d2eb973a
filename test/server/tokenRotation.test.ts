import { expect, it } from 'vitest';
import { createStewardClient } from '../../src/client/index.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { TOKENS, useServer } from '../helpers/server.ts';
import { openTestClient } from '../helpers/wsTestClient.ts';

const ROTATED = 'alice-rotated-token-0123456789';

describeEachEngine('token rotation', (engine) => {
  const fixture = useServer(engine);
  const status = async (token: string) =>
    (
      await fetch(`${fixture.server.url}/supervisors`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).status;

  it('takes new tokens at once and closes the connections of removed or changed ones', async () => {
    const alice = await openTestClient(fixture.wsUrl, { token: TOKENS.alice });
    const bob = await openTestClient(fixture.wsUrl, { token: TOKENS.bob });
    const ops = await openTestClient(fixture.wsUrl, { token: TOKENS.aliceOps });
    for (const client of [alice, bob, ops]) await client.waitFor((f) => f.type === 'hello.ok');

    // A bad list is refused whole: nothing changes.
    expect(() => fixture.server.replaceTokens([{ token: 'short', owner: 'alice' }])).toThrow(
      /at least 16 characters/,
    );
    expect(await status(TOKENS.alice)).toBe(200);

    const result = fixture.server.replaceTokens([
      { token: ROTATED, owner: 'alice' },
      { token: TOKENS.bob, owner: 'bob' },
      { token: TOKENS.admin, admin: true },
      // Same token, narrower grant: its holder must authenticate again.
      { token: TOKENS.aliceOps, owner: 'alice' },
    ]);
    expect(result).toEqual({ tokens: 4, disconnected: 2 });
    expect(await alice.closed).toBe(4401);
    expect(await ops.closed).toBe(4401);
    expect(await bob.request({ type: 'ping' })).toMatchObject({ type: 'pong' });

    expect(await status(TOKENS.alice)).toBe(401);
    expect(await status(ROTATED)).toBe(200);
    await expect(openTestClient(fixture.wsUrl, { token: TOKENS.alice })).rejects.toMatchObject({
      status: 401,
    });
    const again = await openTestClient(fixture.wsUrl, { token: TOKENS.aliceOps });
    expect(await again.waitFor((f) => f.type === 'hello.ok')).toMatchObject({ owner: 'alice' });
    for (const client of [bob, again]) await client.close();
  });

  it('lets the typed client ride through a changed grant and stop for a removed token', async () => {
    const options = { url: fixture.server.url, reconnect: { initialMs: 20, maxMs: 100 } };
    const changed = createStewardClient({ ...options, token: TOKENS.admin });
    const removed = createStewardClient({ ...options, token: TOKENS.bob });
    let connects = 0;
    changed.events.on('connected', () => connects++);
    const stopped = new Promise((resolve) =>
      removed.events.on('disconnected', (loss) => {
        if (!loss.willReconnect) resolve(loss);
      }),
    );
    await Promise.all([changed.connect(), removed.connect()]);
    expect(connects).toBe(1);

    fixture.server.replaceTokens([
      { token: ROTATED, owner: 'alice' },
      // The admin token now speaks for one owner only; bob's token is gone.
      { token: TOKENS.admin, owner: 'carol' },
    ]);
    await expect.poll(() => connects, { timeout: 5_000 }).toBe(2);
    expect(changed.connected).toBe(true);
    expect(await stopped).toMatchObject({ willReconnect: false });
    await expect(removed.connect()).rejects.toMatchObject({ code: 'ERR_UNAUTHENTICATED' });
    await Promise.all([changed.close(), removed.close()]);
  });
});
