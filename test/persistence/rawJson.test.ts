import { describe, expect, it } from 'vitest';
import { RawJson, serializeRows } from '../../src/persistence/rawJson.ts';

describe('serializeRows', () => {
  it('embeds raw JSON text verbatim and equals plain serialization', () => {
    const snapshot = { value: 'a', context: { text: '"quoted" \\ \u2028', list: [1, null] } };
    const rows = [
      { id: 1, snapshot: new RawJson(JSON.stringify(snapshot)), note: 'x' },
      { id: 2, snapshot, note: 'y' },
      { snapshot: new RawJson('[]') },
    ];
    const parsed = JSON.parse(
      serializeRows(
        rows,
        'snapshot',
        (row) => row.snapshot,
        ({ snapshot: _, ...others }) => others,
      ),
    );
    expect(parsed).toEqual([
      { id: 1, snapshot, note: 'x' },
      { id: 2, snapshot, note: 'y' },
      { snapshot: [] },
    ]);
  });

  it('leaves a value that only looks like a marker alone', () => {
    const rows = [{ snapshot: new RawJson('{"a":1}'), activity: '{"snapshot":0}' }];
    const text = serializeRows(
      rows,
      'snapshot',
      (row) => row.snapshot,
      (row) => ({ activity: row.activity }),
    );
    expect(JSON.parse(text)).toEqual([{ snapshot: { a: 1 }, activity: '{"snapshot":0}' }]);
  });

  it('stands for its value wherever else it is serialized', () => {
    expect(JSON.stringify({ s: new RawJson('{"b":[2]}') })).toBe('{"s":{"b":[2]}}');
  });
});
