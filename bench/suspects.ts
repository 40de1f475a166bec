// Figure 11: how well suspected labels find wrong ones — generated shapes in 4 classes with a known share of
// labels flipped (each flipped image filed under the next class), a run trained on them and the default scan
// (`convnet suspects`, 3 folds), all through the CLI in this process. The figure is the precision at the number
// flipped (of the k most suspect, how many were flipped, k = the number flipped); the peer is chance, the share
// flipped (what a random ranking scores).
import fs from 'node:fs';
import path from 'node:path';
import type { CliIO } from '../src/cli/command.js';
import { runCli } from '../src/cli/index.js';
import { writeShapesDataset } from '../test/helpers/shapes-dataset.js';
import type { Row } from './results.js';

const CLASSES = ['circle', 'square', 'hstripes', 'cross'];

async function cli(args: string[]): Promise<string> {
  let out = '';
  let err = '';
  const io: CliIO = { isTTY: false, env: {}, out: (s) => (out += s), err: (s) => (err += s) };
  if ((await runCli(args, io)) !== 0) {
    throw new Error(`figure 11: convnet ${args.join(' ')} failed: ${err.trim()}`);
  }
  return out;
}

/** Figure 11's row: precision of the scan at the number of flipped labels. */
export async function suspectsFigure(o: { dir: string; perClass: number; flipPerClass: number; epochs: number; seed: number; log: (s: string) => void }): Promise<Row[]> {
  const images = path.join(o.dir, 'shapes');
  await writeShapesDataset(images, o.perClass, 48, o.seed, CLASSES);
  const flipped = new Set<string>();
  CLASSES.forEach((cls, k) => {
    const to = CLASSES[(k + 1) % CLASSES.length]!;
    // Only the class's own files: the previous class's flipped ones are already in this folder.
    const own = fs.readdirSync(path.join(images, cls)).filter((f) => f.startsWith(`${cls}-`)).sort().slice(0, o.flipPerClass);
    for (const f of own) {
      const dst = path.join(images, to, f);
      fs.renameSync(path.join(images, cls, f), dst);
      flipped.add(dst);
    }
  });
  const lib = path.join(o.dir, 'library');
  const total = o.perClass * CLASSES.length;
  await cli(['import', images, '--library', lib, '--name', 'flipped', '--split', '100/0/0', '--json']);
  o.log(`figure 11: alexnet-small on ${total} shapes with ${flipped.size} labels flipped (${o.epochs} epochs), then the suspects scan`);
  const run = JSON.parse((await cli(['train', '--library', lib, '--dataset', 'flipped', '--arch', 'alexnet-small', '--epochs', String(o.epochs), '--batch-size', '16', '--json'])).trim().split('\n').at(-1)!) as { run: { id: number } };
  const started = performance.now();
  const items = JSON.parse(await cli(['suspects', '--library', lib, '--run', String(run.run.id), '--limit', String(flipped.size), '--json'])) as Array<{ path: string }>;
  const seconds = (performance.now() - started) / 1000;
  const hits = items.filter((it) => flipped.has(it.path)).length;
  const share = flipped.size / total;
  return [
    {
      figure: 11,
      id: 'suspects.precision-at-flipped',
      what: `suspected labels: precision at the number flipped (${flipped.size} of ${total} flipped)`,
      unit: 'precision',
      better: 'higher',
      ours: hits / flipped.size,
      peerName: 'a random ranking (the share flipped)',
      peer: share,
      ratio: hits / flipped.size / share,
      note: `${hits} of the ${flipped.size} most suspect were flipped; run ${o.epochs} epochs, scan 3 folds × 8 epochs in ${seconds.toFixed(0)} s; 48 px shapes, seed ${o.seed}`,
    },
  ];
}
