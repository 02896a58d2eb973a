import type { Database } from '../../src/persistence/database.ts';
import type { Acked } from './answerLoop.ts';

/**
 * What the journal says of the acknowledged answers: those missing from it (acked but not
 * committed: lost), those journaled more than once (applied twice), and those whose first
 * ack named another version than the one journaled.
 */
export async function journalAgainstAcks(
  db: Database,
  acked: readonly Acked[],
): Promise<{ lost: string[]; twice: string[]; wrongVersion: string[] }> {
  const ids = [...new Set(acked.map((a) => a.supervisorId))];
  const { rows } = await db.query<{ key: string; version: string }>(
    `SELECT supervisor_id || '/' || (payload->>'questionId') AS key, version
     FROM supervisor_events WHERE kind = 'question_answered' AND supervisor_id = ANY ($1::uuid[])`,
    [ids],
  );
  const journaled = new Map<string, number[]>();
  for (const row of rows) {
    journaled.set(row.key, [...(journaled.get(row.key) ?? []), Number(row.version)]);
  }
  const lost: string[] = [];
  const wrongVersion: string[] = [];
  for (const ack of acked) {
    const key = `${ack.supervisorId}/${ack.questionId}`;
    const versions = journaled.get(key);
    if (!versions) lost.push(key);
    else if (!ack.duplicate && !versions.includes(ack.version)) wrongVersion.push(key);
  }
  const twice = [...journaled].filter(([, v]) => v.length > 1).map(([key]) => key);
  return { lost, twice, wrongVersion };
}
