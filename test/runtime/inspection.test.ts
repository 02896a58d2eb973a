import { describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
import { createSupervisorStore } from '../../src/persistence/supervisorStore.ts';
import { createSupervisorHost } from '../../src/runtime/supervisorHost.ts';
import { describeEachEngine } from '../helpers/engines.ts';
import { testRegistry } from '../helpers/testMachines.ts';

describeEachEngine('live inspection', (engine) => {
  describe('an outside inspector', () => {
    it('sees every event and snapshot of hosted supervisors, restored ones included', async () => {
      const db = await engine.openMigrated();
      const seen: InspectionEvent[] = [];
      const options = {
        store: createSupervisorStore(db),
        registry: testRegistry(),
        heartbeatIntervalMs: 0,
        inspect: (event: InspectionEvent) => seen.push(event),
      };
      const host = createSupervisorHost(options);
      const { id } = await host.spawn('survey', { count: 2 }, { owner: 'alice' });
      await host.answer(id, 'q0', 1);
      await host.stop();
      const answered = seen.find(
        (e) => e.type === '@xstate.event' && e.event.type === 'question.answered',
      );
      expect((answered?.actorRef as { id?: string } | undefined)?.id).toBe(id);
      expect(seen.some((e) => e.type === '@xstate.snapshot')).toBe(true);

      seen.length = 0;
      const restarted = createSupervisorHost(options);
      await restarted.restore(id);
      await restarted.answer(id, 'q1', 2);
      await restarted.stop();
      expect(
        seen
          .filter((e) => e.type === '@xstate.event')
          .map((e) => (e as { event: { type: string } }).event.type),
      ).toContain('question.answered');
      await db.close();
    });

    it('cannot break persistence by throwing', async () => {
      const db = await engine.openMigrated();
      const host = createSupervisorHost({
        store: createSupervisorStore(db),
        registry: testRegistry(),
        heartbeatIntervalMs: 0,
        inspect: () => {
          throw new Error('inspector down');
        },
      });
      const { id } = await host.spawn('survey', { count: 1 });
      expect(await host.answer(id, 'q0', 1)).toMatchObject({ duplicate: false });
      expect((await host.get(id)).state).toBe('working');
      await host.stop();
      await db.close();
    });
  });
});
