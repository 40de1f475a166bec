// Starting a run from a parent's weights: layers matched by name and shape are copied, the last layer is
// re-made for the new classes, the chosen layers are frozen, and what happened is kept in the run folder
// (init-from.json) so that a resumed run gives the same layers the same learning rates.
import fs from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from '../api/runs.js';

/** What a fine-tuned run took from its parent, layer by layer. */
export interface InitReport {
  parent: { kind: 'run' | 'model'; id: number };
  /** Layers whose weights were copied. */
  copied: string[];
  /** Layers left at their fresh initialisation, with why (the last layer; a missing layer; another shape). */
  reinitialised: Array<{ layer: string; reason: string }>;
  /** Layers that do not train. */
  frozen: string[];
  /** Learning-rate multiplier of the copied layers that train. */
  pretrainedLrMult: number;
}

const REPORT_FILE = 'init-from.json';

const weighted = (model: tf.LayersModel): tf.layers.Layer[] => model.layers.filter((l) => l.weights.length > 0);
const shapes = (layer: tf.layers.Layer): string => layer.weights.map((w) => w.shape.join('×')).join(', ');

/**
 * Copies every weighted layer of `parent` into the layer of `child` with the same name whose weights have the
 * same shapes; the child's last layer is always left fresh (it is sized to the new classes).
 */
export function copyMatchingWeights(child: tf.LayersModel, parent: tf.LayersModel): Pick<InitReport, 'copied' | 'reinitialised'> {
  const layers = weighted(child);
  const last = layers[layers.length - 1];
  const copied: string[] = [];
  const reinitialised: InitReport['reinitialised'] = [];
  for (const layer of layers) {
    if (layer === last) {
      reinitialised.push({ layer: layer.name, reason: `the last layer, sized to the ${layer.weights[0]!.shape.at(-1)} new classes` });
      continue;
    }
    const from = parent.layers.find((l) => l.name === layer.name);
    if (!from || from.weights.length === 0) {
      reinitialised.push({ layer: layer.name, reason: 'the parent has no such layer' });
    } else if (shapes(from) !== shapes(layer)) {
      reinitialised.push({ layer: layer.name, reason: `the parent's is ${shapes(from)}, this run's ${shapes(layer)}` });
    } else {
      layer.setWeights(from.getWeights());
      copied.push(layer.name);
    }
  }
  return { copied, reinitialised };
}

/** The layers a freeze choice stops (only among those copied: a fresh layer always trains). */
export function layersToFreeze(model: tf.LayersModel, freeze: TrainConfig['freeze'], copied: readonly string[]): string[] {
  const layers = weighted(model);
  const chosen =
    freeze === 'none'
      ? []
      : freeze === 'features'
        ? layers.filter((l) => /conv/i.test(l.getClassName()))
        : layers.slice(0, -1);
  return chosen.map((l) => l.name).filter((name) => copied.includes(name));
}

/** Stops these layers training: their weights leave the trainable set (no gradients, no updates) and stay so in every checkpoint. */
export function freezeLayers(model: tf.LayersModel, names: readonly string[]): void {
  for (const layer of model.layers) {
    if (names.includes(layer.name)) {
      layer.trainable = false;
    }
  }
}

/** The optimizer's per-weight multipliers: copied layers that train learn at `pretrainedLrMult`× the rate, fresh ones at 1×. */
export function lrMultipliers(model: tf.LayersModel, report: InitReport): Record<string, number> {
  const mults: Record<string, number> = {};
  for (const layer of model.layers) {
    const mult = report.frozen.includes(layer.name) ? 0 : report.copied.includes(layer.name) ? report.pretrainedLrMult : 1;
    for (const w of layer.weights) {
      mults[w.originalName] = mult;
    }
  }
  return mults;
}

/**
 * Copies the parent's weights into a freshly built model and freezes the chosen layers. The fast head (all but
 * the last frozen) needs every other layer from the parent: a layer it would have to train is refused here.
 */
export function startFromParent(child: tf.LayersModel, parent: tf.LayersModel, config: TrainConfig): InitReport {
  if (!config.initFrom) {
    throw new Error('startFromParent needs a config with initFrom.');
  }
  const { copied, reinitialised } = copyMatchingWeights(child, parent);
  if (copied.length === 0) {
    throw new Error(`No layer of the parent matches this network by name and shape (${reinitialised.map((r) => `${r.layer}: ${r.reason}`).join('; ')}).`);
  }
  const missing = reinitialised.slice(0, -1);
  if (config.freeze === 'all-but-last' && missing.length > 0) {
    throw new Error(
      `Freezing all but the last layer needs every other layer from the parent, but ${missing.map((r) => `${r.layer} (${r.reason})`).join(', ')} could not be copied: ` +
        "keep the parent's input size, or freeze only the features.",
    );
  }
  const frozen = layersToFreeze(child, config.freeze, copied);
  freezeLayers(child, frozen);
  return { parent: { kind: config.initFrom.kind, id: config.initFrom.id }, copied, reinitialised, frozen, pretrainedLrMult: config.pretrainedLrMult };
}

/** One line for the run's log: what was copied, re-made and frozen. */
export function describeInitReport(r: InitReport): string {
  const fresh = r.reinitialised.map((x) => `${x.layer} (${x.reason})`).join(', ');
  return (
    `Started from ${r.parent.kind} ${r.parent.id}: copied ${r.copied.join(', ')}; re-initialised ${fresh}; ` +
    `${r.frozen.length ? `frozen ${r.frozen.join(', ')}` : 'nothing frozen'}; copied layers learn at ${r.pretrainedLrMult}× the learning rate.`
  );
}

/** Keeps the report in the run folder (a resumed run reads its multipliers from it). */
export function saveInitReport(runDir: string, report: InitReport): void {
  fs.writeFileSync(path.join(runDir, REPORT_FILE), JSON.stringify(report, null, 1));
}

/** The run's init report, or null for a run trained from scratch (or one started before fine-tuning existed). */
export function readInitReport(runDir: string): InitReport | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(runDir, REPORT_FILE), 'utf8')) as InitReport;
  } catch {
    return null;
  }
}

/**
 * The run session's part: at a first start copies from the parent (then disposes it), logs and keeps the
 * report; on resume reads the report back (the checkpoint already holds the weights and the frozen flags).
 * Returns the optimizer's per-weight multipliers, or undefined for a run trained from scratch.
 */
export function setUpFineTune(model: tf.LayersModel, config: TrainConfig, runDir: string, parent: tf.LayersModel | null, log: (level: 'info', message: string) => void): Record<string, number> | undefined {
  if (!config.initFrom) {
    return undefined;
  }
  let report: InitReport | null;
  if (parent) {
    try {
      report = startFromParent(model, parent, config);
    } finally {
      parent.dispose();
    }
    saveInitReport(runDir, report);
    log('info', describeInitReport(report));
  } else {
    report = readInitReport(runDir);
    if (!report) {
      throw new Error(`This run was started from ${config.initFrom.kind} ${config.initFrom.id}, but its folder has lost ${REPORT_FILE}: the learning rates of its layers are unknown.`);
    }
  }
  return lrMultipliers(model, report);
}
