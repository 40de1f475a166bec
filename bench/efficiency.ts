// Parallel efficiency of figures 1 and 2: the images/s at N threads over N × the images/s at one
// thread, for ConvNet Studio (wasm) and for PyTorch at the same thread counts, from rows of one run.
import { makeRow, type Row } from './results.js';
import type { StepCase } from './steps.js';

/** Rate at `threads` / (`threads` × rate at 1); null when either is missing. */
export function parallelEfficiency(rate: number | null, threads: number, rateAtOne: number | null): number | null {
  return rate === null || rateAtOne === null || rateAtOne <= 0 ? null : rate / (threads * rateAtOne);
}

/** One efficiency row per wasm case measured at more than one thread, against its one-thread case. */
export function efficiencyRows(measured: ReadonlyArray<{ c: StepCase; row: Row }>): Row[] {
  const key = (c: StepCase) => `${c.kind}.${c.arch}.${c.inputSize}px.b${c.batch}`;
  const same = measured.filter(({ c }) => c.backend === 'wasm' && c.peerThreads > 0 && c.oursThreads === undefined);
  const rows: Row[] = [];
  for (const { c, row } of same) {
    const one = same.find((m) => key(m.c) === key(c) && m.c.peerThreads === 1);
    const t = c.peerThreads;
    if (t === 1 || !one) {
      continue;
    }
    rows.push(
      makeRow({
        figure: c.kind === 'train' ? 1 : 2,
        id: `efficiency.${key(c)}.wasm.t${t}`,
        what: `parallel efficiency, ${c.kind} ${c.arch} ${c.inputSize}px b${c.batch} at ${t} threads`,
        unit: '',
        better: 'higher',
        ours: parallelEfficiency(row.ours, t, one.row.ours),
        peerName: `PyTorch, ${t} threads vs 1`,
        peer: parallelEfficiency(row.peer, t, one.row.peer),
        note: `images/s at ${t} threads / (${t} × images/s at 1 thread), both from this run`,
      }),
    );
  }
  return rows;
}
