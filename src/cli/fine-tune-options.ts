import type { TrainConfigInput } from '../api/runs.js';
import { FINE_TUNE_DEFAULTS } from '../train/fine-tune-config.js';
import { UsageError, type ParsedArgs } from './command.js';

/** `convnet train`'s fine-tuning options, for its --help. */
export const FINE_TUNE_HELP = [
  { flag: '--init-from run:ID|model:ID', text: `start from a run's checkpoint or an imported model: layers matching by name and shape are copied, the last layer is re-made for this dataset's classes; input size and preprocessing follow the parent (default epochs then: ${FINE_TUNE_DEFAULTS.epochs})` },
  { flag: '--freeze WHAT', text: 'none, features (the convolutional layers) or all-but-last (the fast head: fc7 features computed once per image, then only the last layer trains, in seconds) (default: none)' },
  { flag: '--pretrained-lr-mult X', text: `learning-rate multiplier of the copied layers; the last layer learns at the full rate (default: ${FINE_TUNE_DEFAULTS.pretrainedLrMult})` },
];

/** The config fields that `--init-from`, `--freeze` and `--pretrained-lr-mult` set; a malformed value is a usage error. */
export function fineTuneOptions(args: ParsedArgs): Pick<TrainConfigInput, 'initFrom' | 'freeze' | 'pretrainedLrMult'> {
  const out: Pick<TrainConfigInput, 'initFrom' | 'freeze' | 'pretrainedLrMult'> = {};
  const from = args.values['init-from'];
  if (typeof from === 'string') {
    const m = /^(run|model):(\d+)$/.exec(from.trim());
    if (!m || Number(m[2]) < 1) {
      throw new UsageError(`--init-from takes run:ID or model:ID (see \`convnet runs\`, \`convnet models\`), got "${from}".`);
    }
    out.initFrom = { kind: m[1] as 'run' | 'model', id: Number(m[2]) };
  }
  const freeze = args.values.freeze;
  if (typeof freeze === 'string') {
    if (!['none', 'features', 'all-but-last'].includes(freeze)) {
      throw new UsageError(`--freeze takes none, features or all-but-last, got "${freeze}".`);
    }
    out.freeze = freeze as 'none';
  }
  const mult = args.values['pretrained-lr-mult'];
  if (typeof mult === 'string') {
    const value = Number(mult);
    if (mult.trim() === '' || !Number.isFinite(value) || value < 0 || value > 10) {
      throw new UsageError(`--pretrained-lr-mult takes a number from 0 to 10, got "${mult}".`);
    }
    out.pretrainedLrMult = value;
  }
  return out;
}
