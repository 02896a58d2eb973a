// docs/seed.md maps every column, repository function, save point and restoration step of
// the seed to the code that does it here. These tests keep the map true: every file it
// names exists and defines every name it points at, and nothing of the seed is left out.
import { access, readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../', import.meta.url).pathname;
const DOC = join(ROOT, 'docs/seed.md');

// What the seed lists (seed/000_6d27249bd3d37d1d.txt, outside this repository).
const SEED_COLUMNS = [
  'state',
  'current_activity',
  'progress',
  'error_message',
  'spawned_task_ids',
  'pending_questions',
  'restoration_count',
  'last_restored_at',
  'restoration_source',
];
const SEED_FUNCTIONS = [
  'update_supervisor_detailed_state',
  'add_supervisor_spawned_task',
  'add_supervisor_pending_question',
  'remove_supervisor_pending_question',
  'save_supervisor_state_full',
  'mark_supervisor_restored',
  'get_supervisors_with_pending_questions',
  'get_supervisor_state_for_restoration',
  'validate_spawned_tasks',
  'update_supervisor_phase',
  'update_supervisor_heartbeat_state',
];
const SEED_SAVE_POINTS = [
  'save_state_on_task_spawn',
  'save_state_on_question_asked',
  'clear_pending_question',
  'save_state_on_phase_change',
  'update_supervisor_heartbeat_state',
];
const SEED_TYPES = [
  'SupervisorState',
  'PendingQuestion',
  'SupervisorRestorationContext',
  'StateValidationResult',
  'StateRecoveryAction',
];
const SEED_PROTOCOL = [
  'validate_supervisor_state',
  'restore_supervisor',
  'redeliver_pending_questions',
  'generate_restoration_context_message',
  'resume_supervisor',
];
/** Columns derived from the snapshot (DESIGN.md, principle 1), plus those derived with them. */
const DERIVED_COLUMNS = [
  'state',
  'state_value',
  'tags',
  'current_activity',
  'progress',
  'phase',
  'error_message',
  'spawned_task_ids',
  'pending_questions',
];

interface Reference {
  file: string;
  name?: string;
}

/** Every `path` and `path#name` in the text (paths start at a top-level folder). */
function referencesIn(text: string): Reference[] {
  const found = text.matchAll(
    /`((?:src|test|migrations|docs|bench|scripts)\/[\w./-]+)(?:#([\w.]+))?`/g,
  );
  return [...found].map(([, file, name]) => ({ file: file as string, ...(name ? { name } : {}) }));
}

function literal(name: string): string {
  return name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether TypeScript source defines `name`: a declaration, or a method of an object or interface. */
function definesInTypeScript(source: string, name: string): boolean {
  const n = literal(name);
  return (
    new RegExp(`\\b(?:function\\*?|const|let|var|class|interface|type|enum)\\s+${n}\\b`).test(
      source,
    ) ||
    new RegExp(`^[ \\t]+(?:async\\s+)?\\*?${n}\\??\\s*(?:\\(|<|:\\s*(?:async\\s*)?\\()`, 'm').test(
      source,
    )
  );
}

/** Whether a migration defines `name`: a column, a type, a table or an index. */
function definesInSql(source: string, name: string): boolean {
  const n = literal(name);
  return new RegExp(
    `(?:ADD COLUMN\\s+|CREATE\\s+(?:TYPE|TABLE|INDEX)\\s+|^[ \\t]+)${n}\\b`,
    'm',
  ).test(source);
}

/** What is wrong with one reference, or null. */
async function problemWith(ref: Reference): Promise<string | null> {
  const path = join(ROOT, ref.file);
  try {
    await access(path);
  } catch {
    return `${ref.file} does not exist`;
  }
  if (ref.name === undefined) return null;
  const source = await readFile(path, 'utf8');
  const defines = ref.file.endsWith('.sql') ? definesInSql : definesInTypeScript;
  // `Interface.member`: both are defined in the file.
  const missing = ref.name.split('.').filter((part) => !defines(source, part));
  return missing.length === 0 ? null : `${ref.file} defines no ${missing.join(', ')}`;
}

/** The table rows of the section under a `## heading`, as arrays of cells. */
function rowsOf(doc: string, heading: string): string[][] {
  const start = doc.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`docs/seed.md has no section "${heading}"`);
  const end = doc.indexOf('\n## ', start + 1);
  return doc
    .slice(start, end < 0 ? undefined : end)
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| ---'))
    .map((line) =>
      line
        .slice(2, -2)
        .split(' | ')
        .map((cell) => cell.trim()),
    );
}

function camelCase(snake: string): string {
  return snake.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : [join(dir, e.name)])),
  );
  return nested.flat().filter((f) => f.endsWith('.ts'));
}

describe('docs/seed.md', () => {
  it('names only files that exist and names they define', async () => {
    const refs = referencesIn(await readFile(DOC, 'utf8'));
    expect(refs.length).toBeGreaterThan(50);
    const problems = (await Promise.all(refs.map(problemWith))).filter((p) => p !== null);
    expect([...new Set(problems)]).toEqual([]);
  });

  it('has a row for every column of the seed, pointing at its migration', async () => {
    const rows = rowsOf(await readFile(DOC, 'utf8'), 'Columns');
    for (const column of SEED_COLUMNS) {
      const row = rows.find((cells) => cells[0] === `\`${column}\``);
      expect(row, column).toBeDefined();
      expect(row?.[1], column).toContain(
        `migrations/20260201000001_enhanced_supervisor_state.sql#${column}`,
      );
    }
  });

  it('says of every repository function of the seed whether it is live or removed', async () => {
    const rows = rowsOf(await readFile(DOC, 'utf8'), 'Repository functions');
    expect(rows.map((cells) => cells[0])).toEqual([
      'Seed function',
      ...SEED_FUNCTIONS.map((fn) => `\`${fn}\``),
    ]);
    for (const [fn, status, here] of rows.slice(1)) {
      expect(['live', 'removed'], `${fn}`).toContain(status);
      // A live one is findable by the seed's name: it points at a function of that name.
      const name = camelCase((fn as string).replaceAll('`', ''));
      if (status === 'live') expect(here, `${fn}`).toMatch(new RegExp(`#${name}\``));
    }
  });

  it('keeps no function of the seed it says was removed', async () => {
    const rows = rowsOf(await readFile(DOC, 'utf8'), 'Repository functions');
    const removed = rows
      .filter((cells) => cells[1] === 'removed')
      .map((cells) => camelCase((cells[0] as string).replaceAll('`', '')));
    expect(removed.length).toBeGreaterThan(0);
    const kept: string[] = [];
    for (const file of await sourceFiles(join(ROOT, 'src'))) {
      const source = await readFile(file, 'utf8');
      for (const name of removed) if (definesInTypeScript(source, name)) kept.push(name);
    }
    expect(kept).toEqual([]);
  });

  it('maps every save point, model type and restoration step of the seed', async () => {
    const doc = await readFile(DOC, 'utf8');
    const savePoints = rowsOf(doc, 'Save points').map((cells) => cells[0] ?? '');
    for (const point of SEED_SAVE_POINTS) {
      expect(
        savePoints.some((cell) => cell.includes(`\`${point}\``)),
        point,
      ).toBe(true);
    }
    const types = rowsOf(doc, 'Model types').map((cells) => cells[0] ?? '');
    for (const type of SEED_TYPES) {
      expect(
        types.some((cell) => cell.startsWith(`\`${type}\``)),
        type,
      ).toBe(true);
    }
    const steps = rowsOf(doc, 'Restoration');
    expect(steps.map((cells) => cells[0])).toEqual([
      'Step',
      ...Array.from({ length: 10 }, (_, i) => `${i + 1}`),
    ]);
    for (const cells of steps.slice(1)) expect(cells[2], `step ${cells[0]}`).toMatch(/`src\//);
    for (const fn of SEED_PROTOCOL) expect(doc, fn).toContain(`\`${fn}\``);
  });
});

describe('the derived columns', () => {
  it('are written only by the full save: no other statement inserts or updates them', async () => {
    const offenders: string[] = [];
    for (const path of await sourceFiles(join(ROOT, 'src'))) {
      const file = relative(ROOT, path);
      const source = await readFile(path, 'utf8');
      const inserts = source.match(/INSERT INTO supervisor_states\b/g) ?? [];
      if (inserts.length > 0 && file !== 'src/persistence/supervisorRepository.ts') {
        offenders.push(`${file}: INSERT INTO supervisor_states`);
      }
      for (const [, set] of source.matchAll(
        /UPDATE\s+supervisor_states\b[^;`']*?\bSET\b([\s\S]*?)(?:\bFROM\b|\bWHERE\b|\bRETURNING\b|`|')/g,
      )) {
        for (const column of DERIVED_COLUMNS) {
          if (new RegExp(`(?:^|[\\s,])${column}\\s*=`).test(set as string)) {
            offenders.push(`${file}: UPDATE supervisor_states SET ${column}`);
          }
        }
      }
    }
    expect(offenders).toEqual([]);
    // The one insert is the full save's upsert.
    const repository = await readFile(
      join(ROOT, 'src/persistence/supervisorRepository.ts'),
      'utf8',
    );
    expect(repository.match(/INSERT INTO supervisor_states\b/g)).toHaveLength(1);
    expect(repository).toMatch(/function upsertStatesSql[\s\S]*?INSERT INTO supervisor_states/);
  });
});
