// Fine-tuning through the real services: a run started from another run and from an imported model, the
// lineage runs.get/list report, the fast head, and the resume of a fine-tuned run after its parent is gone.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../../src/cli/command.js';
import { runCli } from '../../../src/cli/index.js';
import { loadCheckpoint } from '../../../src/runs/checkpoint.js';
import { openStudio, type Studio } from '../../../src/studio.js';
import { SHAPE_CLASSES, writeShapesDataset } from '../../helpers/shapes-dataset.js';
import { tempDir } from '../../helpers/temp.js';

const cleanups: Array<() => void> = [];
afterAll(() => cleanups.forEach((c) => c()));

function quietIO(): CliIO & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', isTTY: false, env: {}, out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

/** The weights of one layer in a run's checkpoint, as plain numbers (by the layer's weight names). */
function checkpointWeights(runDir: string, layer: string): number[] {
  const c = loadCheckpoint(runDir)!;
  const floats = new Float32Array(c.artifacts.weightData as ArrayBuffer);
  const out: number[] = [];
  let offset = 0;
  for (const spec of c.artifacts.weightSpecs!) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.name.startsWith(`${layer}/`)) {
      out.push(...floats.subarray(offset, offset + size));
    }
    offset += size;
  }
  return out;
}

describe('fine-tuning a run from a parent', () => {
  let studio: Studio;
  let lib: string;
  let parentData: number;
  let childData: number;
  let parentId: number;

  beforeAll(async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    lib = path.join(t.dir, 'lib');
    await writeShapesDataset(path.join(t.dir, 'a'), 12, 32, 1, SHAPE_CLASSES.slice(0, 4));
    await writeShapesDataset(path.join(t.dir, 'b'), 8, 32, 2, SHAPE_CLASSES.slice(4, 7));
    for (const [dir, name] of [['a', 'shapes'], ['b', 'textures']] as const) {
      expect(await runCli(['import', path.join(t.dir, dir), '--library', lib, '--name', name, '--json'], quietIO())).toBe(0);
    }
    studio = openStudio({ libraryDir: lib, host: 'cli' });
    const datasets = await studio.call('datasets.list');
    parentData = datasets.find((d) => d.name === 'shapes')!.id;
    childData = datasets.find((d) => d.name === 'textures')!.id;
    parentId = (await studio.call('runs.start', { datasetId: parentData, arch: 'alexnet-small', epochs: 1, batchSize: 16, backend: 'wasm' })).id;
    await studio.training.settled(parentId);
    expect((await studio.call('runs.get', { id: parentId })).status).toBe('completed');
  }, 300_000);
  afterAll(async () => studio?.close());

  it('refuses a missing parent, freezing without one, and a malformed --init-from, saying why', async () => {
    await expect(studio.call('runs.start', { datasetId: childData, initFrom: { kind: 'run', id: 99 } })).rejects.toThrow('Run 99 does not exist (see runs.list).');
    await expect(studio.call('runs.start', { datasetId: childData, initFrom: { kind: 'model', id: 5 } })).rejects.toThrow('Model 5 does not exist in this library (see models.list).');
    await expect(studio.call('runs.start', { datasetId: childData, freeze: 'features' })).rejects.toThrow(/freeze 'features' needs a parent/);
    const io = quietIO();
    expect(await runCli(['train', '--library', lib, '--dataset', 'textures', '--init-from', 'run-1'], io)).toBe(2);
    expect(io.stderr).toContain('--init-from takes run:ID or model:ID');
  });

  it('a run started from a run copies its features, freezes them, records the lineage, and resumes after the parent is deleted', async () => {
    const { id } = await studio.call('runs.start', { datasetId: childData, initFrom: { kind: 'run', id: parentId }, freeze: 'features', epochs: 2, batchSize: 8, backend: 'wasm' });
    await new Promise<void>((resolve) => {
      const off = studio.events.on('train.epoch', (e) => {
        if (e.runId === id) {
          off();
          void studio.call('runs.stop', { id }).then(() => resolve());
        }
      });
    });
    await studio.training.settled(id);
    const stopped = await studio.call('runs.get', { id });
    expect(stopped.parent).toEqual({ kind: 'run', id: parentId, name: 'alexnet-small on shapes' });
    expect(stopped.config).toMatchObject({ arch: 'alexnet-small', imageSize: 32, freeze: 'features', pretrainedLrMult: 0.1 });
    expect(stopped.log.map((l) => l.message)).toContain(
      `Started from run ${parentId}: copied conv1, conv2, conv3, conv4, conv5, fc6, fc7; re-initialised fc8 (the last layer, sized to the 3 new classes); frozen conv1, conv2, conv3, conv4, conv5; copied layers learn at 0.1× the learning rate.`,
    );
    expect((await studio.call('runs.list')).find((r) => r.id === id)!.parent?.name).toBe('alexnet-small on shapes');
    const runDir = (n: number) => path.join(studio.library.runsDir, String(n));
    expect(checkpointWeights(runDir(id), 'conv3')).toEqual(checkpointWeights(runDir(parentId), 'conv3'));
    expect(checkpointWeights(runDir(id), 'fc7')).not.toEqual(checkpointWeights(runDir(parentId), 'fc7'));

    const parentConv3 = checkpointWeights(runDir(parentId), 'conv3');
    await studio.call('runs.delete', { id: parentId });
    await studio.call('runs.resume', { id });
    await studio.training.settled(id);
    const done = await studio.call('runs.get', { id });
    expect(done.error).toBeNull();
    expect(done.status).toBe('completed');
    expect(done.epochsData.map((e) => e.epoch)).toEqual([1, 2]);
    expect(done.parent).toEqual({ kind: 'run', id: parentId, name: null });
    expect(checkpointWeights(runDir(id), 'conv3')).toEqual(parentConv3);
  }, 300_000);

  it('a fast head from an imported model trains the last layer alone on cached features', async () => {
    const other = (await studio.call('runs.start', { datasetId: parentData, arch: 'alexnet-small', epochs: 1, batchSize: 16, backend: 'wasm', seed: 4 })).id;
    await studio.training.settled(other);
    const out = path.join(path.dirname(lib), 'exported');
    await studio.call('classify.export', { runId: other, outDir: out });
    const model = await studio.call('models.import', { dir: out, name: 'shapes model' });
    const { id } = await studio.call('runs.start', { datasetId: childData, initFrom: { kind: 'model', id: model.id }, freeze: 'all-but-last', epochs: 5, batchSize: 8, backend: 'wasm' });
    await studio.training.settled(id);
    const run = await studio.call('runs.get', { id });
    expect(run.error).toBeNull();
    expect(run.status).toBe('completed');
    expect(run.parent).toEqual({ kind: 'model', id: model.id, name: 'shapes model' });
    expect(run.epochsData).toHaveLength(5);
    expect(run.log.some((l) => /^Fast head: features computed in \d+\.\d s, the last layer trained in \d+\.\d s\.$/.test(l.message))).toBe(true);
    const runDir = path.join(studio.library.runsDir, String(id));
    expect(checkpointWeights(runDir, 'fc7')).toEqual(checkpointWeights(path.join(studio.library.runsDir, String(other)), 'fc7'));
    expect(JSON.parse(fs.readFileSync(path.join(runDir, 'init-from.json'), 'utf8')).frozen).toEqual(['conv1', 'conv2', 'conv3', 'conv4', 'conv5', 'fc6', 'fc7']);
  }, 300_000);
});
