// Figure 8: training on webgpu (and webgl) in Chromium's compute page — the desktop app's GPU path —
// next to wasm in Node and PyTorch on the CPU, same network, input and batch, in the same run. On a
// machine without a GPU, Chromium's adapter is SwiftShader (software): the row says so.
import { measureWebgpuTraining } from './webgpu-training.js';
import { resolveTestChromium } from '../test/helpers/test-browser.js';
import { makeRow, median, skippedRow, type Row } from './results.js';
import { compareSteps, torchName, type PeerEnv, type StepCase } from './steps.js';

const fmtRatio = (x: number): string => (x >= 0.1 ? x.toFixed(2) : x.toPrecision(2));

/** webgpu (quick) or webgpu + webgl (full) training images/s, peer PyTorch CPU at the same size; wasm in the note. */
export async function webgpuFigure(o: { full: boolean; peer: PeerEnv; log: (s: string) => void }): Promise<Row[]> {
  // Small, because a software adapter takes seconds per step of this already.
  const spec = { arch: 'alexnet-small', inputSize: 32, batchSize: 16, steps: o.full ? 3 : 2 } as const;
  const cpu: StepCase = { kind: 'train', arch: spec.arch, inputSize: spec.inputSize, batch: spec.batchSize, backend: 'wasm', reps: o.full ? 3 : 2, steps: spec.steps, warmup: 1, peerThreads: 1 };
  const backends: Array<'webgpu' | 'webgl'> = o.full ? ['webgpu', 'webgl'] : ['webgpu'];
  const base = (b: 'webgpu' | 'webgl') =>
    ({
      figure: 8,
      id: `train.${spec.arch}.${spec.inputSize}px.b${spec.batchSize}.${b}`,
      what: `train ${spec.arch} ${spec.inputSize}px b${spec.batchSize}, ${b} (compute page)`,
      unit: 'img/s',
      better: 'higher',
      peerName: torchName(o.peer, 1),
    }) as const;
  o.log(`  wasm and PyTorch at ${spec.inputSize}px b${spec.batchSize} (the CPU side of figure 8)`);
  const cpuSide = await compareSteps(cpu, o.peer, o.log);
  const wasm = cpuSide.ours.length ? median(cpuSide.ours) : null;
  const torch = cpuSide.peer.length ? median(cpuSide.peer) : null;
  let measured: Awaited<ReturnType<typeof measureWebgpuTraining>>;
  try {
    o.log(`  ${backends.join(' and ')} in headless Chromium's compute page`);
    measured = await measureWebgpuTraining({ backends, ...spec, wasm: false, chromiumPath: await resolveTestChromium() });
  } catch (err) {
    const reason = `Chromium's compute page could not run: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
    return backends.map((b) => skippedRow(base(b), reason));
  }
  return measured.rows.map((r) => {
    const b = r.backend as 'webgpu' | 'webgl';
    const adapter = r.adapter ? [r.adapter.vendor, r.adapter.architecture, r.adapter.description].filter(Boolean).join(' ') : 'unknown adapter';
    const notes = [
      `adapter: ${adapter}${r.software ? ' — SOFTWARE (SwiftShader on the CPU): this measures the code path, not a GPU' : ''}`,
      `wasm in Node at the same size: ${wasm === null ? `not measured (${cpuSide.oursError ?? 'failed'})` : `${wasm.toFixed(1)} img/s (${r.backend} is ${fmtRatio(r.imagesPerSecond / wasm)}× of it)`}`,
      `${spec.steps} steps after a warm-up; first step ${r.firstStepSeconds.toFixed(1)} s (shader compilation)`,
      ...(cpuSide.peerError ? [`peer: ${cpuSide.peerError}`] : []),
    ];
    return makeRow({ ...base(b), ours: r.imagesPerSecond, peer: torch, note: notes.join('; ') });
  });
}
