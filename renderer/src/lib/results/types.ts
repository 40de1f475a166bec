// The results views' types, straight from the engine's contract (src/api/results.ts is the truth).
import type { Output } from '../../../../src/api/contract';
export type { Neighbour, PredictionSet, ResultImage, ResultSummary, ScoredClass } from '../../../../src/api/results';

/** A split predictions can be stored for. */
export type ResultSplit = 'train' | 'val' | 'test';
/** The splits a user evaluates on, in display order. */
export const RESULT_SPLITS: readonly ResultSplit[] = ['val', 'test', 'train'];
/** A page of result images (`results.cell`, `results.mistakes`). */
export type ResultPage = Output<'results.mistakes'>;
/** The answer of `results.filters`. */
export type FilterGrid = Output<'results.filters'>;
/** The answer of `results.activations`. */
export type ActivationGrid = Output<'results.activations'>;
/** The answer of `results.gradcam`. */
export type GradCamPicture = Output<'results.gradcam'>;
/** One pair of `results.compare`: the image under run A and under run B. */
export type ComparePair = Output<'results.compare'>['items'][number];
/** Which side of a run-vs-run comparison to list. */
export type CompareWhich = 'aRightBWrong' | 'aWrongBRight';
/** The tabs of a run's page. */
export type RunTab = 'overview' | 'evaluation' | 'mistakes' | 'suspects' | 'neighbours' | 'filters' | 'compare';

/** A probability as a percentage with one decimal. */
export function formatPercent(p: number | null | undefined): string {
  return p === null || p === undefined || !Number.isFinite(p) ? '—' : `${(p * 100).toFixed(1)}%`;
}

/** A metric in [0, 1] with three decimals. */
export function formatRatio(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(3);
}
