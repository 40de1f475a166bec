// Figures 1, 2 and 5: training and inference images/s of ConvNet Studio against PyTorch CPU on the same
// network, batch and thread count, timed alternately (one side idle while the other runs, so load from
// other processes falls on both alike), medians over the repetitions; and both sides' peak RSS.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeModel, type ArchName } from '../src/model/index.js';
import { LineProcess, type StepTask } from './protocol.js';
import { makeRow, median, pairedRatio, skippedRow, type Row } from './results.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** bench/torch_peer.py, found from build/bench/ or from bench/ when run through tsx. */
const TORCH_PEER = path.resolve(here, here.includes(`${path.sep}build${path.sep}`) ? '../../bench' : '.', 'torch_peer.py');
const OURS_WORKER = path.join(here, `ours-worker${path.extname(fileURLToPath(import.meta.url))}`);

/** The peer interpreter, or why there is none. */
export interface PeerEnv {
  python: string | null;
  torch: string | null;
  reason: string | null;
}

/** One step comparison to run. */
export interface StepCase {
  kind: 'train' | 'infer';
  arch: ArchName;
  inputSize: number;
  batch: number;
  backend: 'wasm' | 'cpu' | 'tensorflow';
  /** Timed repetitions per side, and steps in each. */
  reps: number;
  steps: number;
  warmup: number;
  /** Peer threads (our backend's own count: the wasm threads, 1 for cpu, all cores for tensorflow); 0 = PyTorch's default. */
  peerThreads: number;
  /** ConvNet Studio's wasm threads where they differ from the peer's (the row against PyTorch's default). */
  oursThreads?: number;
  /** The peer's device: cpu (default) or cuda (the GPU variant, beside tfjs-node-gpu). */
  peerDevice?: 'cpu' | 'cuda';
  /** Ask both sides for their peak RSS afterwards (figure 5). */
  rss?: boolean;
  note?: string;
}

/** What a step comparison measured. */
export interface StepOutcome {
  ours: number[];
  peer: number[];
  oursInfo: Record<string, unknown> | null;
  peerInfo: Record<string, unknown> | null;
  rss: { ours: number | null; peer: number | null };
  oursError: string | null;
  peerError: string | null;
}

function taskOf(c: StepCase): StepTask {
  const numClasses = c.arch === 'alexnet-small' ? 10 : 1000;
  const specs = describeModel(c.arch, { numClasses, inputSize: c.inputSize }).map((r) => r.spec);
  return { kind: c.kind, arch: c.arch, specs, inputSize: c.inputSize, batch: c.batch, numClasses, threads: c.peerThreads, oursThreads: c.oursThreads ?? c.peerThreads, warmup: c.warmup, backend: c.backend, device: c.peerDevice ?? 'cpu' };
}

async function start(name: 'ours' | 'peer', proc: LineProcess, task: StepTask): Promise<Record<string, unknown>> {
  try {
    return await proc.request({ op: 'setup', task });
  } catch (err) {
    throw new Error(`${name} setup failed: ${(err as Error).message}`);
  }
}

/** Runs one case: both sides set up one after the other, then timed alternately; images/s per repetition. */
export async function compareSteps(c: StepCase, peerEnv: PeerEnv, log: (s: string) => void): Promise<StepOutcome> {
  const task = taskOf(c);
  const out: StepOutcome = { ours: [], peer: [], oursInfo: null, peerInfo: null, rss: { ours: null, peer: null }, oursError: null, peerError: null };
  // From source (vitest, tsx) the worker is a .ts file: load it through tsx.
  const ours = new LineProcess(process.execPath, OURS_WORKER.endsWith('.ts') ? ['--import', 'tsx', OURS_WORKER] : [OURS_WORKER]);
  const peer = peerEnv.python ? new LineProcess(peerEnv.python, [TORCH_PEER]) : null;
  try {
    out.oursInfo = await start('ours', ours, task).catch((err: Error) => ((out.oursError = err.message), null));
    if (peer) {
      out.peerInfo = await start('peer', peer, task).catch((err: Error) => ((out.peerError = err.message), null));
      if (out.oursInfo && out.peerInfo && out.oursInfo.params !== out.peerInfo.params) {
        out.peerError = `parameter counts differ (ours ${String(out.oursInfo.params)}, torch ${String(out.peerInfo.params)}): not the same network`;
        out.peerInfo = null;
      }
    } else {
      out.peerError = peerEnv.reason ?? 'no peer';
    }
    const sides = [
      { proc: ours, ok: () => out.oursInfo !== null, into: out.ours },
      ...(peer ? [{ proc: peer, ok: () => out.peerInfo !== null, into: out.peer }] : []),
    ];
    for (let rep = 0; rep < c.reps; rep++) {
      // Alternate who goes first, so a slow spell on the machine does not always hit the same side.
      for (const side of rep % 2 ? [...sides].reverse() : sides) {
        if (!side.ok()) {continue;}
        const { seconds } = (await side.proc.request({ op: 'time', steps: c.steps })) as { seconds: number };
        side.into.push((c.batch * c.steps) / seconds);
      }
      log(`    rep ${rep + 1}/${c.reps}: ours ${out.ours.at(-1)?.toFixed(1) ?? '—'} img/s, peer ${out.peer.at(-1)?.toFixed(1) ?? '—'} img/s`);
    }
    if (c.rss) {
      const bytes = async (p: LineProcess | null, ok: boolean): Promise<number | null> =>
        p && ok ? ((await p.request({ op: 'rss' })) as { maxRssBytes: number }).maxRssBytes : null;
      out.rss = { ours: await bytes(ours, out.oursInfo !== null), peer: await bytes(peer, out.peerInfo !== null) };
    }
  } finally {
    await Promise.all([ours.close(), peer?.close()]);
  }
  return out;
}

/** The peer's name as a row shows it. */
export function torchName(peerEnv: PeerEnv, threads: number, device: 'cpu' | 'cuda' = 'cpu'): string {
  if (device === 'cuda') {
    return `PyTorch ${peerEnv.torch ?? ''} CUDA`.replace('  ', ' ');
  }
  const count = threads === 0 ? 'its default threads' : `${threads} thread${threads === 1 ? '' : 's'}`;
  return peerEnv.torch ? `PyTorch ${peerEnv.torch} CPU, ${count}` : 'PyTorch CPU';
}

/** The identifying fields of a case's images/s row. */
export function stepBase(c: StepCase, peerEnv: PeerEnv) {
  const threads = c.oursThreads ?? c.peerThreads;
  const wasm = c.backend === 'wasm';
  const what = `${c.kind} ${c.arch} ${c.inputSize}px b${c.batch}, ${c.backend}${wasm ? ` ${threads} thread${threads === 1 ? '' : 's'}` : ''}`;
  const id = `${c.kind}.${c.arch}.${c.inputSize}px.b${c.batch}.${c.backend}${wasm ? `.t${threads}${c.peerThreads === 0 ? '.vs-torch-default' : ''}` : ''}`;
  return { figure: c.kind === 'train' ? 1 : 2, id, what, unit: 'img/s', better: 'higher', peerName: torchName(peerEnv, c.peerThreads, c.peerDevice) } as const;
}

/** Turns a step comparison into its images/s row. */
export function stepRow(c: StepCase, o: StepOutcome, peerEnv: PeerEnv): Row {
  const base = stepBase(c, peerEnv);
  if (!o.oursInfo) {
    return skippedRow(base, o.oursError ?? 'ConvNet Studio side failed');
  }
  const threads = o.oursInfo.threads ?? '?';
  const notes = [`ours: ${String(o.oursInfo.backend)} backend, ${String(threads)} thread(s)`, `${c.reps}×${c.steps} steps after ${c.warmup} warm-up`];
  if (o.peerError) {notes.push(`peer: ${o.peerError}`);}
  if (c.peerThreads === 0 && typeof o.peerInfo?.threads === 'number') {notes.push(`torch's default here: ${o.peerInfo.threads} thread(s)`);}
  const paired = pairedRatio(o.ours, o.peer);
  if (paired !== null && o.ours.length > 1) {notes.push(`median of per-repetition ratios ${paired.toFixed(2)}`);}
  if (c.note) {notes.push(c.note);}
  return makeRow({
    ...base,
    ours: median(o.ours),
    peer: o.peer.length ? median(o.peer) : null,
    pairedRatio: paired,
    samples: { ours: o.ours, peer: o.peer },
    note: notes.join('; '),
  });
}

/** Figure 5: peak RSS of the processes that trained in a step comparison (each did nothing else). */
export function rssRow(c: StepCase, o: StepOutcome, peerEnv: PeerEnv): Row {
  const base = {
    figure: 5,
    id: `rss.train.${c.arch}.${c.inputSize}px.b${c.batch}.${c.backend}`,
    what: `peak RSS training ${c.arch} ${c.inputSize}px b${c.batch}, ${c.backend}`,
    unit: 'MiB',
    better: 'lower',
    peerName: torchName(peerEnv, c.peerThreads, c.peerDevice),
  } as const;
  if (o.rss.ours === null) {
    return skippedRow(base, o.oursError ?? 'not measured');
  }
  const mib = (b: number | null): number | null => (b === null ? null : b / 2 ** 20);
  return makeRow({ ...base, ours: mib(o.rss.ours), peer: mib(o.rss.peer), note: 'maxRSS of a process that built the network and trained it (Node: resourceUsage, torch: getrusage)' });
}
