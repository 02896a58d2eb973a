import { afterAll, afterEach, beforeAll } from 'vitest';
import {
  createStewardClient,
  type StewardClient,
  type StewardClientOptions,
} from '../../src/client/index.ts';
import type { Database } from '../../src/persistence/database.ts';
import { listEvents } from '../../src/persistence/journalRepository.ts';
import type { TestEngine } from '../helpers/engines.ts';
import { type Stack, startStack, stopStack, TOKENS } from '../helpers/server.ts';
import { type SocketRelay, startSocketRelay } from './socketRelay.ts';

export const ALICE: string = TOKENS.alice;
export const BOB: string = TOKENS.bob;

/** A migrated database, a stack on it and a relay in front of its port, for a describe block. */
export interface StackFixture {
  db: Database;
  stack: Stack;
  relay: SocketRelay;
  /** The relay's address, as a client is given it. */
  relayUrl: string;
}

export function useStack(engine: TestEngine): StackFixture {
  const fixture = {} as StackFixture;
  beforeAll(async () => {
    fixture.db = await engine.openMigrated();
    fixture.stack = await startStack(fixture.db);
    fixture.relay = await startSocketRelay({ host: '127.0.0.1', port: fixture.stack.server.port });
    fixture.relayUrl = `http://127.0.0.1:${fixture.relay.port}`;
  });
  afterAll(async () => {
    await fixture.relay.close();
    await stopStack(fixture.stack);
    await fixture.db.close();
  });
  return fixture;
}

/**
 * Opens typed clients to the stack's relay as alice, with `defaults` under each call's
 * options; every client opened in a test is closed after it (after `beforeClose`).
 */
export function useClients(
  fixture: StackFixture,
  defaults: Partial<StewardClientOptions>,
  beforeClose: () => void = () => {},
): (options?: Partial<StewardClientOptions>) => StewardClient {
  const clients: StewardClient[] = [];
  afterEach(async () => {
    beforeClose();
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  return (options = {}) => {
    const client = createStewardClient({
      url: fixture.relayUrl,
      token: ALICE,
      ...defaults,
      ...options,
    });
    clients.push(client);
    return client;
  };
}

/** How many answers to a question the journal holds. */
export async function answersInJournal(
  db: Database,
  supervisorId: string,
  questionId: string,
): Promise<number> {
  const events = await listEvents(db, supervisorId);
  return events.filter(
    (e) =>
      e.kind === 'question_answered' &&
      (e.payload as { questionId?: unknown }).questionId === questionId,
  ).length;
}
