import { createHash } from 'node:crypto';
import type { SplitName } from '../api/datasets.js';

/** Fractions of each class per split. */
export interface SplitFractions {
  train: number;
  val: number;
  test: number;
}

/** The split a dataset gets when its source gives none. */
export const DEFAULT_SPLIT: SplitFractions & { seed: number } = { train: 0.8, val: 0.1, test: 0.1, seed: 0 };

/** Share of each class's given training images carved out as validation when a source gives train/test but no val. */
export const DEFAULT_VAL_FROM_TRAIN = 0.1;

/** One image the stratified split assigns. */
export interface SplitItem {
  id: number;
  classId: number;
  sha256: string;
}

/** How many of `n` images go to each split: val and test rounded, train takes the rest. */
export function splitQuotas(n: number, fractions: SplitFractions): { train: number; val: number; test: number } {
  let val = Math.round(n * fractions.val);
  let test = Math.round(n * fractions.test);
  while (val + test > n) {
    if (test >= val && test > 0) {
      test--;
    } else {
      val--;
    }
  }
  return { train: n - val - test, val, test };
}

/**
 * Deterministic stratified split: within each class, images are ordered by SHA-256(seed, content hash)
 * (independent of file names and import order) and cut at the quotas. Same images + seed → same split.
 */
export function stratifiedSplit(items: readonly SplitItem[], fractions: SplitFractions, seed: number): Map<number, SplitName> {
  const byClass = new Map<number, Array<{ id: number; key: string }>>();
  for (const item of items) {
    const key = createHash('sha256').update(`${seed}:${item.sha256}`).digest('hex');
    let list = byClass.get(item.classId);
    if (!list) {
      list = [];
      byClass.set(item.classId, list);
    }
    list.push({ id: item.id, key });
  }
  const result = new Map<number, SplitName>();
  for (const list of byClass.values()) {
    list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.id - b.id));
    const q = splitQuotas(list.length, fractions);
    list.forEach((entry, i) => result.set(entry.id, i < q.train ? 'train' : i < q.train + q.val ? 'val' : 'test'));
  }
  return result;
}

/** Reads "80/10/10" (percent) or "0.8,0.1,0.1" as fractions; null unless they add up to 100 or 1 with train above 0. */
export function parseSplitSpec(text: string): SplitFractions | null {
  const parts = text.split(/[/,:]/).map((p) => Number(p.trim()));
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p) || p < 0)) {
    return null;
  }
  const sum = parts[0]! + parts[1]! + parts[2]!;
  const scale = Math.abs(sum - 100) < 1e-6 ? 100 : Math.abs(sum - 1) < 1e-6 ? 1 : 0;
  if (scale === 0 || parts[0] === 0) {
    return null;
  }
  return { train: parts[0]! / scale, val: parts[1]! / scale, test: parts[2]! / scale };
}
