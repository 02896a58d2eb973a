import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  isJournalKind,
  JOURNAL_KINDS,
  JOURNAL_REGISTRY,
  JournalKind,
} from '../../src/model/journalKinds.ts';
import { JournalEvent } from '../../src/model/task.ts';
import type { NewJournalEvent } from '../../src/persistence/journalRepository.ts';
import { JournalEntry } from '../../src/protocol/http.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

async function filesUnder(dir: string, ends: readonly string[]): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) =>
      e.isDirectory() ? filesUnder(join(dir, e.name), ends) : [join(dir, e.name)],
    ),
  );
  return nested.flat().filter((f) => ends.some((end) => f.endsWith(end)));
}

describe('the journal kinds', () => {
  it('gives every kind a snake_case name and one line of what it records and who writes it', () => {
    expect(JOURNAL_KINDS).toEqual(Object.keys(JOURNAL_REGISTRY));
    expect(JournalKind.options).toEqual(JOURNAL_KINDS);
    for (const [kind, spec] of Object.entries(JOURNAL_REGISTRY)) {
      expect(kind).toMatch(/^[a-z]+(?:_[a-z]+)*$/);
      expect(spec.records.length, kind).toBeGreaterThan(10);
      expect(`${spec.records}${spec.writtenBy}`, kind).not.toMatch(/\n/);
    }
  });

  it('names as its writer a function that exists in the file named', async () => {
    for (const [kind, { writtenBy }] of Object.entries(JOURNAL_REGISTRY)) {
      const [, path, name] = /`(src\/[^#`]+)#([\w.]+)`/.exec(writtenBy) ?? [];
      expect(path, kind).toBeDefined();
      const text = await readFile(join(ROOT, path as string), 'utf8');
      const member = (name as string).split('.').at(-1) as string;
      expect(text, `${kind}: ${path}#${name}`).toMatch(new RegExp(`\\b${member}\\b`));
      // The writer spells the kind out (typed as JournalKind, or as the parameter it binds).
      expect(text, `${kind}: ${path}`).toContain(`'${kind}'`);
    }
  });

  it('declares every kind that SQL in src/, migrations/ or the test helpers spells out', async () => {
    const files = [
      ...(await filesUnder(join(ROOT, 'src'), ['.ts'])),
      ...(await filesUnder(join(ROOT, 'migrations'), ['.sql'])),
      ...(await filesUnder(join(ROOT, 'test/helpers'), ['.ts'])),
    ];
    const unknown: string[] = [];
    let seen = 0;
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      for (const [, kind] of text.matchAll(/\bkind\s*(?:=|<>|!=)\s*'([^']*)'/g)) {
        seen++;
        if (!isJournalKind(kind)) unknown.push(`${relative(ROOT, file)}: ${kind}`);
      }
      for (const [, list] of text.matchAll(/\bkind\s+(?:NOT\s+)?IN\s*\(([^)]*)\)/gi)) {
        for (const [, kind] of (list as string).matchAll(/'([^']*)'/g)) {
          seen++;
          if (!isJournalKind(kind)) unknown.push(`${relative(ROOT, file)}: ${kind}`);
        }
      }
    }
    expect(seen).toBeGreaterThan(2);
    expect(unknown).toEqual([]);
  });

  it('is the kind of the model, of what the writers append and of the HTTP schema', () => {
    const entry = {
      id: 1,
      supervisorId: '6f1c2b8e-3d4a-4b5c-9d6e-7f8a9b0c1d2e',
      version: 1,
      kind: 'phase_changed',
      payload: { from: null, to: 'plan' },
      stateValue: 'active.planning',
    };
    expect(JournalEvent.safeParse({ ...entry, createdAt: new Date() }).success).toBe(true);
    expect(JournalEntry.safeParse({ ...entry, createdAt: new Date().toJSON() }).success).toBe(true);
    const unknownKind = { ...entry, kind: 'step', createdAt: new Date().toJSON() };
    expect(JournalEntry.safeParse(unknownKind).error?.issues[0]?.path).toEqual(['kind']);
    // tsc refuses a kind the registry does not declare.
    const refused: NewJournalEvent = {
      supervisorId: entry.supervisorId,
      version: 1,
      // @ts-expect-error 'step' is not a JournalKind
      kind: 'step',
    };
    expect(isJournalKind(refused.kind)).toBe(false);
  });
});
