// The rows of the shared top-k probability bars (components/TopBars.svelte), from either view's predictions.
import type { Prediction } from './classify/types';
import type { ScoredClass } from './results/types';

/** One class's bar; `truth` marks the image's true class. */
export interface ProbBar {
  key: string | number;
  name: string;
  probability: number;
  truth?: boolean;
}

/** A classified file's predictions (Classify view), most probable first. */
export function predictionBars(predictions: readonly Prediction[]): ProbBar[] {
  return predictions.map((p) => ({ key: p.label, name: p.label, probability: p.probability }));
}

/** A result image's top-5 (Results view), the true class marked. */
export function top5Bars(image: { top5: readonly ScoredClass[]; trueLabel: number }): ProbBar[] {
  return image.top5.map((s) => ({ key: s.label, name: s.className, probability: s.probability, truth: s.label === image.trueLabel }));
}
