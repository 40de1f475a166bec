import type { TrainConfig } from '../api/runs.js';

import type { ScheduleState } from '../runs/training-state.js';
export type { ScheduleState };

/** The state a run starts with. */
export function initialSchedule(config: Pick<TrainConfig, 'lr'>): ScheduleState {
  return { lr: config.lr, bestError: null, epochsSinceBest: 0 };
}

/**
 * The learning rate for the next epoch, after `epochsDone` epochs ended with `valError`.
 * Plateau is the paper's rule: divide by 10 when the validation error stops improving.
 */
export function nextSchedule(
  config: Pick<TrainConfig, 'lr' | 'epochs' | 'schedule'>,
  state: ScheduleState,
  epochsDone: number,
  valError: number | null,
): ScheduleState {
  const improved = valError !== null && (state.bestError === null || valError < state.bestError - 1e-9);
  const bestError = improved ? valError : state.bestError;
  const epochsSinceBest = improved ? 0 : state.epochsSinceBest + 1;
  const s = config.schedule;
  switch (s.kind) {
    case 'plateau': {
      if (valError !== null && epochsSinceBest > s.patience) {
        return { lr: Math.max(s.minLr, state.lr * s.factor), bestError, epochsSinceBest: 0 };
      }
      return { lr: state.lr, bestError, epochsSinceBest };
    }
    case 'step':
      return { lr: config.lr * s.factor ** Math.floor(epochsDone / s.every), bestError, epochsSinceBest };
    case 'cosine': {
      const t = Math.min(1, epochsDone / config.epochs);
      return { lr: s.minLr + 0.5 * (config.lr - s.minLr) * (1 + Math.cos(Math.PI * t)), bestError, epochsSinceBest };
    }
  }
}
