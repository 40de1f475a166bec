import * as tf from '@tensorflow/tfjs';
import { PAPER_SGD_KERNEL } from '../backends/custom-kernels.js';

import type { SgdState } from '../runs/training-state.js';
export type { SgdState };

export interface PaperSgdOptions {
  momentum: number;
  weightDecay: number;
  /** The paper's rule is written for every weight; like its reference code we leave biases undecayed. */
  decayBiases?: boolean;
  /** Per-weight learning-rate multipliers by weight key (fine-tuning: pretrained layers learn slower); absent keys take 1, 0 leaves a weight unchanged. */
  lrMult?: Readonly<Record<string, number>>;
}

/**
 * SGD with the paper's update rule (Krizhevsky et al. 2012, §5):
 *   v ← momentum·v − weightDecay·ε·w − ε·∂L/∂w
 *   w ← w + v
 * Weight decay is inside the momentum, scaled by the learning rate, exactly as written there.
 */
/** A trainable weight with a key that stays the same across processes (e.g. `conv1/kernel`). */
export interface KeyedVariable {
  key: string;
  variable: tf.Variable;
}

export class PaperSgd {
  /** Momentum buffers by weight key. */
  private readonly velocity = new Map<string, tf.Variable>();
  step = 0;

  constructor(
    private readonly vars: readonly KeyedVariable[],
    private readonly options: PaperSgdOptions,
  ) {
    for (const { key, variable } of vars) {
      this.velocity.set(key, tf.variable(tf.zerosLike(variable), false));
    }
  }

  /** Applies one update with learning rate `baseLr` (times the weight's multiplier) given gradients keyed by tf variable name (as tf.variableGrads returns them). */
  apply(grads: tf.NamedTensorMap, baseLr: number): void {
    const { momentum, weightDecay } = this.options;
    const fused = tf.getKernel(PAPER_SGD_KERNEL, tf.getBackend()) !== undefined;
    tf.tidy(() => {
      for (const { key, variable: w } of this.vars) {
        const g = grads[w.name];
        if (!g) {
          continue;
        }
        const mult = this.options.lrMult?.[key] ?? 1;
        if (mult === 0) {
          continue; // frozen: no step, no decay, momentum kept as it is
        }
        const lr = baseLr * mult;
        const v = this.velocity.get(key)!;
        const decays = weightDecay > 0 && (this.options.decayBiases || !isBias(key, w));
        if (fused) {
          // One pass for both buffers (wasm): the same arithmetic, in the same order, as the ops below.
          const [nextV, nextW] = tf.engine().runKernel(PAPER_SGD_KERNEL, { v, g, w }, { momentum, lr, decay: decays ? weightDecay * lr : 0 }) as unknown as tf.Tensor[];
          v.assign(nextV!);
          w.assign(nextW!);
          continue;
        }
        let next = tf.sub(tf.mul(v, momentum), tf.mul(g, lr));
        if (decays) {
          next = tf.sub(next, tf.mul(w, weightDecay * lr));
        }
        v.assign(next);
        w.assign(tf.add(w, next));
      }
    });
    this.step += 1;
  }

  /** Copies the momentum buffers out, for a checkpoint. */
  async getState(): Promise<SgdState> {
    const momentum: SgdState['momentum'] = {};
    for (const [name, v] of this.velocity) {
      momentum[name] = { shape: v.shape.slice(), values: (await v.data()) as Float32Array };
    }
    return { step: this.step, momentum };
  }

  /** Restores momentum buffers from a checkpoint; refuses a state for another network. */
  setState(state: SgdState): void {
    for (const [name, v] of this.velocity) {
      const saved = state.momentum[name];
      if (!saved) {
        throw new Error(`The checkpoint has no momentum for ${name}: it belongs to another network.`);
      }
      if (saved.shape.join('x') !== v.shape.join('x')) {
        throw new Error(`The checkpoint's momentum for ${name} has shape ${saved.shape.join('x')}, the network ${v.shape.join('x')}.`);
      }
      v.assign(tf.tensor(saved.values, saved.shape));
    }
    this.step = state.step;
  }

  dispose(): void {
    for (const v of this.velocity.values()) {
      v.dispose();
    }
    this.velocity.clear();
  }
}

function isBias(key: string, v: tf.Variable): boolean {
  return v.shape.length === 1 && /bias/i.test(key);
}
