// Which backend a run trains on when the studio has compute windows: `auto` is decided by a measured
// probe (auto-backend.ts) once per session, webgpu/webgl are refused where no window exists, and a
// window lost during a run keeps webgpu out of auto for the rest of the session.
import type { BackendName, ComputeStatus } from '../api/app.js';
import { ApiError } from '../api/errors.js';
import { isComputeBackend } from '../backends/index.js';
import { measureNodeBackend } from '../backends/node-probe.js';
import { computeModeFor } from '../backends/webgpu-host.js';
import type { StudioContext } from '../library/studio-context.js';
import { decideAutoBackend, probeAdapters, type AutoDecision } from './auto-backend.js';
import type { ComputeHost } from './compute/host/host.js';
import { logRun } from '../runs/run-store.js';

/** The backend choice of one studio: its compute host (if any), auto's decision and what failed this session. */
export class BackendChooser {
  private computeHost: ComputeHost | null = null;
  /** auto's measured decision, made once per app session (the hardware does not change under it). */
  private autoDecision: Promise<AutoDecision> | null = null;
  /** Why webgpu is left out of auto for the rest of this session (its device was lost), or null. */
  private webgpuFailure: string | null = null;
  private adapters: Promise<ComputeStatus['adapters']> | null = null;

  constructor(private readonly ctx: StudioContext) {}

  /** The desktop app's compute windows, or null (browser mode, CLI). */
  get host(): ComputeHost | null {
    return this.computeHost;
  }

  /** The desktop app's compute windows: runs on webgpu/webgl train there (main/compute-window.ts sets it). */
  setComputeHost(host: ComputeHost | null): void {
    this.computeHost = host;
    this.autoDecision = null;
    this.adapters = null;
  }

  /** The compute window's adapters (asked once per session) and auto's last decision. */
  async computeStatus(): Promise<ComputeStatus> {
    const { mode, note } = computeModeFor(this.ctx.host);
    const host = this.computeHost;
    if (!host) {
      return { mode: 'node-only', adapters: [], auto: null, note: mode === 'node-only' ? note : 'This app has no compute window.' };
    }
    this.adapters ??= probeAdapters(host);
    const decision = await this.lastAutoDecision();
    return {
      mode: 'compute-window',
      adapters: await this.adapters,
      auto: decision ? { backend: decision.backend, device: decision.device, reason: decision.reason } : null,
      note,
    };
  }

  /**
   * The backend a run with this preference trains on. `auto` with a compute window is decided by a
   * measured probe (auto-backend.ts), once per session; otherwise the run's worker chooses as always
   * (undefined). The decision's reason goes to the run's log.
   */
  async resolveBackend(runId: number, preference: string): Promise<BackendName | undefined> {
    if (preference !== 'auto' || !this.computeHost) {
      return undefined;
    }
    const host = this.computeHost;
    // Measured once per session: later runs reuse the decision, with nothing to time (and no such message).
    if (!this.autoDecision) {
      this.ctx.events.emit('train.progress', {
        runId, phase: 'preparing', epoch: 0, epochs: 0, batch: 0, batches: 0, loss: null, imagesPerSecond: null, etaSeconds: null, lr: 0,
        message: 'Choosing a backend: timing a short training step on webgpu and on the CPU…',
      });
      this.autoDecision = decideAutoBackend({ computeHost: host, measureNode: (b) => measureNodeBackend(b), skipWebgpu: this.webgpuFailure });
    }
    let decision: AutoDecision;
    try {
      decision = await this.autoDecision;
    } catch (err) {
      this.autoDecision = null;
      throw new ApiError('unavailable', err instanceof Error ? err.message : String(err));
    }
    logRun(this.ctx.library.db, runId, 'info', decision.reason);
    this.ctx.events.emit('app.log', { level: 'info', message: `Run ${runId}: ${decision.reason}`, time: Date.now() });
    return decision.backend;
  }

  /** The last auto decision of this session, if one was made (for app.info and tests). */
  async lastAutoDecision(): Promise<AutoDecision | null> {
    return this.autoDecision ? this.autoDecision.catch(() => null) : null;
  }

  /** Refuses a webgpu/webgl run where no compute window exists (browser mode, CLI), with what to do instead. */
  checkBackend(backend: string): void {
    if (isComputeBackend(backend) && !this.computeHost) {
      const where = this.ctx.host === 'server' ? 'In browser mode the server trains in Node' : this.ctx.host === 'cli' ? 'The CLI trains in Node' : 'This app has no compute window';
      throw new ApiError('unavailable', `The ${backend} backend trains only in the desktop app's compute window. ${where}: choose auto, tensorflow, wasm or cpu.`);
    }
  }

  /** A compute window or its GPU went away during a run: auto leaves webgpu out for the rest of this session. */
  webgpuLost(reason: string): void {
    this.webgpuFailure = `it failed earlier in this session (${reason})`;
    this.autoDecision = null;
  }
}
