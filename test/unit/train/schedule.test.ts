import { describe, expect, it } from 'vitest';
import { initialSchedule, nextSchedule, type ScheduleState } from '../../../src/train/schedule.js';

const plateau = { lr: 0.01, epochs: 90, schedule: { kind: 'plateau' as const, patience: 1, factor: 0.1, minLr: 1e-5 } };

describe('learning-rate schedules', () => {
  it('plateau divides by 10 once validation error stops improving for longer than the patience', () => {
    let s = initialSchedule(plateau);
    s = nextSchedule(plateau, s, 1, 0.5);
    s = nextSchedule(plateau, s, 2, 0.4);
    expect(s.lr).toBe(0.01);
    s = nextSchedule(plateau, s, 3, 0.41); // 1 epoch without improvement: within patience
    expect(s.lr).toBe(0.01);
    s = nextSchedule(plateau, s, 4, 0.42); // 2 epochs: divide
    expect(s.lr).toBeCloseTo(0.001, 10);
    expect(s.epochsSinceBest).toBe(0);
    expect(s.bestError).toBe(0.4);
  });

  it('plateau never goes under minLr', () => {
    let s: ScheduleState = { lr: 2e-5, bestError: 0.1, epochsSinceBest: 5 };
    s = nextSchedule(plateau, s, 10, 0.2);
    expect(s.lr).toBe(1e-5);
  });

  it('step and cosine follow their formulas', () => {
    const step = { lr: 0.1, epochs: 90, schedule: { kind: 'step' as const, every: 30, factor: 0.1 } };
    expect(nextSchedule(step, initialSchedule(step), 29, null).lr).toBeCloseTo(0.1);
    expect(nextSchedule(step, initialSchedule(step), 30, null).lr).toBeCloseTo(0.01);
    const cosine = { lr: 0.1, epochs: 10, schedule: { kind: 'cosine' as const, minLr: 0 } };
    expect(nextSchedule(cosine, initialSchedule(cosine), 5, null).lr).toBeCloseTo(0.05);
    expect(nextSchedule(cosine, initialSchedule(cosine), 10, null).lr).toBeCloseTo(0);
  });
});
