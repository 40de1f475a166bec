import { describe, expect, it } from 'vitest';
import { csvErrorRow, csvField, csvRow, jsonLine, resultsCsv } from '../../../src/classify/results-format.js';

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

  it('prints the --json line shapes', () => {
    expect(JSON.parse(jsonLine(item))).toEqual({ path: item.path, predictions: item.predictions });
    expect(JSON.parse(jsonLine(error))).toEqual({ path: '/p/bad.jpg', error: 'corrupt JPEG, truncated' });
  });
});
