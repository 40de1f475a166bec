import { describe, expect, it } from 'vitest';
import { parseDelimited, parseLabelsFile } from '../../../src/datasets/csv.js';
import { sniffFormat } from '../../../src/datasets/image-probe.js';
import { parseSplitSpec, splitQuotas, stratifiedSplit } from '../../../src/datasets/split.js';

const items = (classId: number, n: number, offset = 0) =>
  Array.from({ length: n }, (_, i) => ({ id: offset + i + 1, classId, sha256: `${classId}-${i}`.padEnd(64, '0') }));

describe('stratified split', () => {
  it('cuts every class at its own quotas', () => {
    const all = [...items(1, 100), ...items(2, 30, 100), ...items(3, 7, 200)];
    const split = stratifiedSplit(all, { train: 0.8, val: 0.1, test: 0.1 }, 0);
    const count = (classId: number, s: string) => all.filter((i) => i.classId === classId && split.get(i.id) === s).length;
    expect([count(1, 'train'), count(1, 'val'), count(1, 'test')]).toEqual([80, 10, 10]);
    expect([count(2, 'train'), count(2, 'val'), count(2, 'test')]).toEqual([24, 3, 3]);
    expect([count(3, 'train'), count(3, 'val'), count(3, 'test')]).toEqual([5, 1, 1]);
  });

  it('is deterministic for a seed, independent of input order and ids, and changes with the seed', () => {
    const all = items(1, 50);
    const a = stratifiedSplit(all, { train: 0.6, val: 0.2, test: 0.2 }, 7);
    const shuffled = [...all].reverse().map((i) => ({ ...i, id: i.id + 1000 }));
    const b = stratifiedSplit(shuffled, { train: 0.6, val: 0.2, test: 0.2 }, 7);
    expect(all.map((i) => a.get(i.id))).toEqual(all.map((i) => b.get(i.id + 1000)));
    const c = stratifiedSplit(all, { train: 0.6, val: 0.2, test: 0.2 }, 8);
    expect(all.map((i) => c.get(i.id))).not.toEqual(all.map((i) => a.get(i.id)));
  });

  it('rounds val and test, gives train the rest, never more than a class has', () => {
    expect(splitQuotas(1, { train: 0.2, val: 0.4, test: 0.4 })).toEqual({ train: 1, val: 0, test: 0 });
    expect(splitQuotas(2, { train: 0.1, val: 0.45, test: 0.45 })).toEqual({ train: 0, val: 1, test: 1 });
    expect(splitQuotas(0, { train: 0.8, val: 0.1, test: 0.1 })).toEqual({ train: 0, val: 0, test: 0 });
  });

  it('reads --split as percent or fractions', () => {
    expect(parseSplitSpec('80/10/10')).toEqual({ train: 0.8, val: 0.1, test: 0.1 });
    expect(parseSplitSpec('0.7,0.2,0.1')).toEqual({ train: 0.7, val: 0.2, test: 0.1 });
    expect(parseSplitSpec('80/30/10')).toBeNull();
    expect(parseSplitSpec('0/50/50')).toBeNull();
    expect(parseSplitSpec('a/b/c')).toBeNull();
  });
});

describe('labels files', () => {
  it('parses quotes, escaped quotes, CRLF and a BOM', () => {
    expect(parseDelimited('\ufeffa,"b,c"\r\n"say ""hi""",d\n', ',').map((r) => r.fields)).toEqual([
      ['a', 'b,c'],
      ['say "hi"', 'd'],
    ]);
  });

  it('reports an unterminated quote on its line and reads the lines after it', () => {
    expect(parseDelimited('a,1\n"b,2\r\nc,3\nd,4', ',')).toEqual([
      { line: 1, fields: ['a', '1'] },
      { line: 2, fields: [], error: 'unterminated quote (a field opened with " is never closed); the line is not read' },
      { line: 3, fields: ['c', '3'] },
      { line: 4, fields: ['d', '4'] },
    ]);
    expect(parseDelimited('x,"y', ',')).toEqual([{ line: 1, fields: [], error: 'unterminated quote (a field opened with " is never closed); the line is not read' }]);
    expect(parseLabelsFile('x.jpg,cat\n"y.jpg,dog\nz.jpg,dog\n', ',')).toEqual([
      { ok: true, line: 1, path: 'x.jpg', label: 'cat', split: null },
      { ok: false, line: 2, path: null, reason: 'line 2: unterminated quote (a field opened with " is never closed); the line is not read' },
      { ok: true, line: 3, path: 'z.jpg', label: 'dog', split: null },
    ]);
  });

  it('finds columns by header names, or by position without a header', () => {
    const withHeader = parseLabelsFile('split\tlabel\tpath\nval\tcat\tx.jpg\n', '\t');
    expect(withHeader).toEqual([{ ok: true, line: 2, path: 'x.jpg', label: 'cat', split: 'val' }]);
    const bare = parseLabelsFile('x.jpg,cat\ny.jpg,dog,validation\nz.jpg,dog,holdout\n', ',');
    expect(bare[0]).toEqual({ ok: true, line: 1, path: 'x.jpg', label: 'cat', split: null });
    expect(bare[1]).toMatchObject({ ok: true, split: 'val' });
    expect(bare[2]).toEqual({ ok: false, line: 3, path: 'z.jpg', reason: 'line 3: unknown split "holdout" (train, val or test expected)' });
  });
});

describe('format sniffing', () => {
  it('knows containers by their first bytes', () => {
    expect(sniffFormat(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpeg');
    expect(sniffFormat(Buffer.from('RIFF\0\0\0\0WEBPVP8 '))).toBe('webp');
    expect(sniffFormat(Buffer.from('\0\0\0\x1cftypavif'))).toBe('avif');
    expect(sniffFormat(Buffer.from('hello'))).toBeNull();
  });
});
