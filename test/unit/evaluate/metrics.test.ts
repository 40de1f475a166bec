import { describe, expect, it } from 'vitest';
import { confusionMatrix, perClassMetrics, topK, topKHits } from '../../../src/evaluate/metrics.js';

describe('metrics', () => {
  it('topK orders by score, ties by index', () => {
    expect(topK([0.1, 0.5, 0.2, 0.5], 3)).toEqual([1, 3, 2]);
  });

  it('counts top-1 and top-5 hits', () => {
    // 6 classes; image 0 true=0 ranked 1st; image 1 true=5 ranked 6th; image 2 true=2 ranked 3rd
    const probs = [0.5, 0.1, 0.1, 0.1, 0.1, 0.1, 0.3, 0.25, 0.2, 0.15, 0.09, 0.01, 0.3, 0.25, 0.2, 0.15, 0.09, 0.01];
    expect(topKHits(probs, [0, 5, 2], 6)).toEqual({ top1: 1, top5: 2 });
  });

  it('builds a confusion matrix and per-class precision/recall', () => {
    const probs = [0.9, 0.1, 0.2, 0.8, 0.6, 0.4];
    const m = confusionMatrix(probs, [0, 1, 1], 2);
    expect(m).toEqual([
      [1, 0],
      [1, 1],
    ]);
    const pc = perClassMetrics(m);
    expect(pc[0]).toMatchObject({ precision: 0.5, recall: 1, support: 1 });
    expect(pc[1]).toMatchObject({ precision: 1, recall: 0.5, support: 2 });
  });
});
