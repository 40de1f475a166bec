/** Indices of the k largest values of one row, largest first. */
export function topK(row: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: row.length }, (_, i) => i);
  idx.sort((a, b) => row[b]! - row[a]! || a - b);
  return idx.slice(0, Math.min(k, row.length));
}

/** Counts of top-1 and top-5 hits for a [n × classes] row-major probability matrix. */
export function topKHits(probs: ArrayLike<number>, labels: ArrayLike<number>, classes: number): { top1: number; top5: number } {
  let top1 = 0;
  let top5 = 0;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    const p = probs[i * classes + label]!;
    // Rank of the true class = how many classes score strictly higher (ties count in its favour, as argmax does for the lower index).
    let higher = 0;
    for (let c = 0; c < classes; c++) {
      const q = probs[i * classes + c]!;
      if (q > p || (q === p && c < label)) {
        higher++;
      }
    }
    if (higher === 0) {
      top1++;
    }
    if (higher < 5) {
      top5++;
    }
  }
  return { top1, top5 };
}

/** A confusion matrix: rows are true classes, columns predicted (top-1). */
export function confusionMatrix(probs: ArrayLike<number>, labels: ArrayLike<number>, classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < labels.length; i++) {
    const predicted = topK(Array.prototype.slice.call(probs, i * classes, (i + 1) * classes) as number[], 1)[0]!;
    m[labels[i]!]![predicted]! += 1;
  }
  return m;
}

/** Per-class precision, recall, F1 and support from a confusion matrix. */
export function perClassMetrics(confusion: number[][]): Array<{ precision: number; recall: number; f1: number; support: number }> {
  return confusion.map((row, c) => {
    const tp = row[c]!;
    const support = row.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, r) => a + r[c]!, 0);
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { precision, recall, f1, support };
  });
}
