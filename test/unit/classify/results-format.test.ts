import { describe, expect, it } from 'vitest';
import { csvErrorRow, csvField, csvRow, jsonLine, resultsCsv } from '../../../src/classify/results-format.js';
import { parseRfc4180, parseTopk } from '../../helpers/rfc4180.js';

const item = { path: '/p/a, "b".png', predictions: [{ label: 'cat', probability: 0.75 }, { label: 'dog', probability: 0.25 }] };
const error = { path: '/p/bad.jpg', kind: 'corrupt' as const, reason: 'corrupt JPEG, truncated' };

describe('results formats', () => {
  it('quotes CSV fields only when needed', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
  });

  it('writes path, top-1, confidence, top-k and error columns', () => {
    expect(csvRow(item)).toBe('"/p/a, ""b"".png",cat,0.750000,cat:0.750000|dog:0.250000,');
    expect(csvErrorRow(error)).toBe('/p/bad.jpg,,,,"corrupt JPEG, truncated"');
    expect(resultsCsv({ results: [item], errors: [error] }).split('\n')).toEqual(['path,top1,confidence,top5,error', csvRow(item), csvErrorRow(error), '']);
  });

  it('writes labels a spreadsheet shows as text, never as a formula', () => {
    for (const label of ["=cmd|' /C calc'!A0", '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1']) {
      const [cell] = parseRfc4180(csvField(label))[0]!;
      expect(cell).toBe(`'${label}`);
    }
    expect(csvField('-')).toBe(`"'-"`);
    expect(csvField('cat')).toBe('cat');
  });

  it('round-trips hostile labels through an RFC 4180 reader, with an unambiguous top-5 field', () => {
    const formula = "=cmd|' /C calc'!A0";
    const awkward = 'a|b, "c"\nd\\e:f';
    const row = { path: '/p/x.png', predictions: [{ label: formula, probability: 0.5 }, { label: awkward, probability: 0.3 }, { label: 'plain', probability: 0.2 }] };
    const rows = parseRfc4180(resultsCsv({ results: [row], errors: [] }));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual(['path', 'top1', 'confidence', 'top5', 'error']);
    const [pathCell, top1, confidence, top5, errorCell] = rows[1]!;
    expect([pathCell, top1, confidence, errorCell]).toEqual(['/p/x.png', `'${formula}`, '0.500000', '']);
    expect(top5!.startsWith("'")).toBe(true);
    expect(parseTopk(top5!.slice(1))).toEqual([
      { label: formula, probability: 0.5 },
      { label: awkward, probability: 0.3 },
      { label: 'plain', probability: 0.2 },
    ]);
  });

  it('prints the --json line shapes', () => {
    expect(JSON.parse(jsonLine(item))).toEqual({ path: item.path, predictions: item.predictions });
    expect(JSON.parse(jsonLine(error))).toEqual({ path: '/p/bad.jpg', error: 'corrupt JPEG, truncated' });
  });
});
