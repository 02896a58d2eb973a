// The response schemas are what the OpenAPI document shows and what the typed client
// checks: the server's real bodies must fit them. The client's tests cover the routes it
// calls; these are the others.
import { expect, it } from 'vitest';
import type { z } from 'zod';
import {
  CheckpointList,
  Health,
  MachineCounts,
  MachineList,
  Readiness,
  Resumed,
} from '../../src/protocol/httpResponses.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { TOKENS, useServer } from '../helpers/server.ts';
import { testRegistry } from '../helpers/testMachines.ts';

describeEachEngine('HTTP response bodies', (engine) => {
  const fixture = useServer(engine, { registry: testRegistry() });
  const get = async (schema: z.ZodType, path: string, method = 'GET') => {
    const response = await fetch(`${fixture.server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKENS.alice}` },
    });
    expect(response.status, path).toBe(200);
    return schema.parse(await response.json());
  };

  it('fit their schemas: health, readiness, machines, counts and checkpoints', async () => {
    const { id } = await fixture.host.spawn(
      'reference',
      { goal: 'g', steps: ['a'] },
      { owner: 'alice' },
    );
    expect(await get(Health, '/healthz')).toMatchObject({ status: 'ok' });
    expect(await get(Readiness, '/readyz')).toMatchObject({ ready: true });
    const { machines } = (await get(MachineList, '/machines')) as z.infer<typeof MachineList>;
    expect(machines.map((m) => m.id)).toContain('reference');
    const counts = (await get(MachineCounts, '/machines/reference/counts')) as z.infer<
      typeof MachineCounts
    >;
    expect(counts.total).toBeGreaterThanOrEqual(1);
    const { checkpoints } = (await get(
      CheckpointList,
      `/supervisors/${id}/checkpoints`,
    )) as z.infer<typeof CheckpointList>;
    expect(checkpoints.length).toBeGreaterThanOrEqual(1);
  });

  it('fit their schemas: a resume that restores from storage, with its RestorationInfo', async () => {
    const { id } = await fixture.host.spawn('fragile', undefined, { owner: 'alice' });
    // Dropping every supervisor from memory, as a lost database does, leaves this one to a
    // restore from its row.
    fixture.host.databaseLost();
    fixture.host.databaseBack();
    const resumed = (await get(Resumed, `/supervisors/${id}/resume`, 'POST')) as Resumed;
    expect(resumed.resumed).toBe('restored');
    if (resumed.resumed !== 'restored') return;
    expect(resumed.restoration).toMatchObject({ supervisorId: id, source: 'manual' });
    expect(resumed.restoration.history.length).toBeGreaterThan(0);
  });
});
