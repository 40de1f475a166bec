// Figure 10: fine-tuned against from scratch on the same time budget, with 10 images per new class — through
// the real services (import, runs.start, the run worker): a parent alexnet-small trained on the ten shape
// classes, then on five classes it never saw (bench/fine-tune-data.ts) the same minutes of training from the
// parent (fine-tuning's defaults) and from scratch (the paper's recipe), and the fast head.
import path from 'node:path';
import type { CliIO } from '../src/cli/command.js';
import { runCli } from '../src/cli/index.js';
import { openStudio } from '../src/studio.js';
import type { TrainConfigInput } from '../src/api/runs.js';
import { writeFineTuneData } from './fine-tune-data.js';
import type { Row } from './results.js';

const quiet: CliIO = { isTTY: false, env: {}, out: () => undefined, err: () => undefined };

/** Figure 10's rows: validation top-1 error of the fine-tuned run and of the fast head, each against from scratch. */
export async function fineTuneFigure(o: { dir: string; parentEpochs: number; minutes: number; log: (s: string) => void }): Promise<Row[]> {
  const data = await writeFineTuneData(path.join(o.dir, 'data'));
  const lib = path.join(o.dir, 'library');
  for (const [dir, name] of [[data.parent, 'shapes10'], [data.child, 'new5']] as const) {
    if ((await runCli(['import', dir, '--library', lib, '--name', name], quiet)) !== 0) {
      throw new Error(`figure 10: importing ${name} failed`);
    }
  }
  const studio = openStudio({ libraryDir: lib, host: 'cli' });
  try {
    const ids = Object.fromEntries((await studio.call('datasets.list')).map((d) => [d.name, d.id]));
    const train = async (config: TrainConfigInput): Promise<{ id: number; error: number; epochs: number; seconds: number }> => {
      const { id } = await studio.call('runs.start', { backend: 'wasm', ...config });
      await studio.training.settled(id);
      const run = await studio.call('runs.get', { id });
      if (run.status !== 'completed') {
        throw new Error(`figure 10: run ${id} ${run.status}: ${run.error}`);
      }
      const last = run.epochsData.at(-1)!;
      return { id, error: 100 * last.valTop1Error!, epochs: run.epochsDone, seconds: run.epochsData.reduce((a, e) => a + e.seconds, 0) };
    };
    o.log(`figure 10: parent alexnet-small on 10 shape classes (${o.parentEpochs} epochs)`);
    const parent = await train({ datasetId: ids.shapes10!, arch: 'alexnet-small', epochs: o.parentEpochs, batchSize: 32, lr: 0.02, schedule: { kind: 'cosine' } });
    const budget = { datasetId: ids.new5!, epochs: 1000, batchSize: 10, timeLimitMinutes: o.minutes };
    o.log(`figure 10: ${o.minutes} min fine-tuned from run ${parent.id}, then ${o.minutes} min from scratch`);
    const tuned = await train({ ...budget, initFrom: { kind: 'run', id: parent.id } });
    const scratch = await train({ ...budget, arch: 'alexnet-small' });
    const head = await train({ datasetId: ids.new5!, epochs: 30, batchSize: 10, initFrom: { kind: 'run', id: parent.id }, freeze: 'all-but-last' });
    const peerName = `from scratch, ${scratch.epochs} epochs, ${scratch.seconds.toFixed(0)} s of steps`;
    const row = (id: string, what: string, r: typeof tuned): Row => ({
      figure: 10,
      id,
      what,
      unit: '% top-1 err',
      better: 'lower',
      ours: r.error,
      peerName,
      peer: scratch.error,
      ratio: r.error / scratch.error,
      note: `5 new classes × 10 training images (200 validation); ${r.epochs} epochs, ${r.seconds.toFixed(0)} s of steps; parent: ${parent.epochs} epochs on 10 shape classes, ${parent.error.toFixed(1)} % val error; last epoch's val error, chance 80 %`,
    });
    return [
      row('fine-tune.from-run.vs-scratch', `fine-tuned from a run, ${o.minutes} min (new classes, 10 images each)`, tuned),
      row('fine-tune.fast-head.vs-scratch', 'fast head from the same run, 30 epochs', head),
    ];
  } finally {
    await studio.close();
  }
}
