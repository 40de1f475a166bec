// `auto` where the app has a compute window: CUDA (tfjs-node-gpu) first; otherwise a short measured
// probe — the same small training step timed in the compute window on webgpu and in a Node worker on
// the best Node backend — decides, so a weak or software adapter never beats the CPU by guess.
import type { BackendName, ComputeAdapter } from '../api/app.js';
import { adapterLabelOf } from '../backends/webgpu-host.js';
import { chooseBackend, type NodeBackendName } from '../backends/index.js';
import type { ComputeHost } from './compute/host/host.js';
import { awaitReply, type FromCompute, type ToCompute } from './compute/protocol.js';

/** One backend auto tried: its measured seconds per probe step, or why it could not run. */
export interface AutoCandidate {
  name: BackendName;
  /** What it ran on, e.g. "WebGPU: nvidia ampere" or "CPU (Intel …)". */
  device: string | null;
  secondsPerStep: number | null;
  error: string | null;
}

/** What auto chose, with the measurements behind it. */
export interface AutoDecision {
  backend: BackendName;
  device: string | null;
  /** One sentence for the run's log and the UI. */
  reason: string;
  candidates: AutoCandidate[];
}

/** auto's order of preference among backends that ran the probe (CUDA is taken before any probe). */
const PREFERENCE: BackendName[] = ['webgpu', 'tensorflow', 'wasm', 'cpu'];

/** A more preferred backend wins unless another was measured faster than this by more than the margin. */
const MARGIN = 1.1;

const ms = (s: number): string => `${(s * 1000).toFixed(s < 0.01 ? 1 : 0)} ms`;

/**
 * Picks among measured candidates: the most preferred one within 10 % of the fastest. Throws when
 * none ran. Pure, so the rule is tested on its own.
 */
export function pickAuto(candidates: AutoCandidate[]): AutoDecision {
  const ran = candidates.filter((c): c is AutoCandidate & { secondsPerStep: number } => c.secondsPerStep !== null);
  if (ran.length === 0) {
    throw new Error(`No backend could run a training step: ${candidates.map((c) => `${c.name}: ${c.error ?? 'no result'}`).join('; ')}`);
  }
  const fastest = Math.min(...ran.map((c) => c.secondsPerStep));
  const rank = (n: BackendName): number => (PREFERENCE.includes(n) ? PREFERENCE.indexOf(n) : PREFERENCE.length);
  const chosen = [...ran].sort((a, b) => rank(a.name) - rank(b.name)).find((c) => c.secondsPerStep <= fastest * MARGIN)!;
  const figures = candidates
    .map((c) => `${c.name}${c.device ? ` (${c.device})` : ''} ${c.secondsPerStep !== null ? ms(c.secondsPerStep) : `failed: ${c.error ?? 'no result'}`}`)
    .join(', ');
  const passed = ran.filter((c) => rank(c.name) < rank(chosen.name));
  const why = passed.length
    ? `; ${passed.map((c) => c.name).join(', ')} ${passed.length > 1 ? 'were' : 'was'} slower here`
    : '';
  return {
    backend: chosen.name,
    device: chosen.device,
    reason: `auto measured one probe training step: ${figures} → ${chosen.name}${why}.`,
    candidates,
  };
}

/**
 * Opens a compute window for one short exchange and closes it afterwards: `ask` posts a message and
 * waits for the reply of a type (rejecting on the page's error, the window's loss, or `timeoutMs`).
 */
async function withComputeWindow<R>(
  host: ComputeHost,
  timeoutMs: number,
  exchange: (ask: <T extends FromCompute['type']>(m: ToCompute, type: T) => Promise<Extract<FromCompute, { type: T }>>) => Promise<R>,
): Promise<R> {
  const channel = await host.open();
  try {
    const listeners = new Set<(m: FromCompute) => void>();
    channel.onMessage((m) => listeners.forEach((l) => l(m)));
    const lost = new Promise<string>((resolve) => channel.onLost(resolve));
    const subscribe = (l: (m: FromCompute) => void): (() => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    };
    return await exchange((m, type) => {
      const reply = awaitReply(subscribe, lost, type, timeoutMs);
      channel.post(m, []);
      return reply;
    });
  } finally {
    channel.close();
  }
}

/** Times the probe on webgpu in a fresh compute window (closed afterwards). */
export async function probeComputeWindow(host: ComputeHost, steps = 3, timeoutMs = 120_000): Promise<AutoCandidate> {
  let device: string | null = null;
  try {
    return await withComputeWindow(host, timeoutMs, async (ask) => {
      device = adapterLabelOf((await ask({ type: 'open', backend: 'webgpu' }, 'ready')).adapter);
      return { name: 'webgpu', device, secondsPerStep: (await ask({ type: 'probe', steps }, 'probe')).secondsPerStep, error: null };
    });
  } catch (err) {
    return { name: 'webgpu', device, secondsPerStep: null, error: err instanceof Error ? err.message : String(err) };
  }
}

/** What webgpu and webgl would run on in a compute window (opened for this and closed); never throws. */
export async function probeAdapters(host: ComputeHost, timeoutMs = 60_000): Promise<ComputeAdapter[]> {
  try {
    const { adapters } = await withComputeWindow(host, timeoutMs, (ask) => ask({ type: 'adapters' }, 'adapters'));
    return adapters.map((a) =>
      'unavailable' in a
        ? { backend: a.backend, available: false, label: null, software: false, reason: a.unavailable }
        : {
            backend: a.backend,
            available: true,
            label: adapterLabelOf(a),
            software: a.software,
            reason: a.software ? 'a software adapter: it works, but slower than a GPU; auto measures before choosing it' : 'found by the compute window',
          },
    );
  } catch (err) {
    const reason = `the compute window could not be asked: ${err instanceof Error ? err.message : String(err)}`;
    return (['webgpu', 'webgl'] as const).map((backend) => ({ backend, available: false, label: null, software: false, reason }));
  }
}

/** How decideAutoBackend reaches the two sides (replaced in tests). */
export interface AutoProbes {
  computeHost: ComputeHost | null;
  /** Seconds per probe step on a Node backend, measured off the main thread. */
  measureNode(backend: NodeBackendName): Promise<number>;
  /** Leave webgpu out (it failed this session, e.g. its device was lost). */
  skipWebgpu?: string | null;
}

/** Decides what `auto` trains on here: CUDA if tfjs-node-gpu loads, else the measured faster of webgpu and the best Node backend. */
export async function decideAutoBackend(probes: AutoProbes): Promise<AutoDecision> {
  const node = await chooseBackend('auto');
  if (node.provider === '@tensorflow/tfjs-node-gpu') {
    return { backend: node.name, device: node.device, reason: `auto: CUDA through tfjs-node-gpu comes first (${node.device ?? 'GPU'}); no probe needed.`, candidates: [] };
  }
  if (!probes.computeHost) {
    return { backend: node.name, device: node.device, reason: `auto: ${node.reason}`, candidates: [] };
  }
  // One after the other: both use the CPU when the adapter is a software one.
  const webgpu: AutoCandidate = probes.skipWebgpu
    ? { name: 'webgpu', device: null, secondsPerStep: null, error: probes.skipWebgpu }
    : await probeComputeWindow(probes.computeHost);
  const nodeName = node.name as NodeBackendName;
  let nodeCandidate: AutoCandidate;
  try {
    nodeCandidate = { name: nodeName, device: node.device, secondsPerStep: await probes.measureNode(nodeName), error: null };
  } catch (err) {
    nodeCandidate = { name: nodeName, device: node.device, secondsPerStep: null, error: err instanceof Error ? err.message : String(err) };
  }
  return pickAuto([webgpu, nodeCandidate]);
}
