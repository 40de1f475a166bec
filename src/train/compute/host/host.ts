// What the desktop app gives the engine to train in a compute window. Defined here so src/ never
// imports electron: main/compute-window.ts implements it and hands it to the RunManager.
import type { FromCompute, ToCompute } from '../protocol.js';

/** One compute window, connected: protocol messages both ways, its loss, and closing it. */
export interface ComputeChannel {
  post(m: ToCompute, transfer: ArrayBuffer[]): void;
  onMessage(listener: (m: FromCompute) => void): void;
  /** Called once if the window's renderer or GPU process dies, or the window goes away. */
  onLost(listener: (reason: string) => void): void;
  close(): void;
}

/** Opens fresh, locked-down compute windows (one per run session). */
export interface ComputeHost {
  open(): Promise<ComputeChannel>;
}

/** A compute window's loss, reported once to every listener (later reasons are dropped). */
export function lossSignal(): { lose(reason: string): void; onLost(listener: (reason: string) => void): void } {
  const listeners: Array<(reason: string) => void> = [];
  let lost = false;
  return {
    lose: (reason) => {
      if (!lost) {
        lost = true;
        listeners.forEach((l) => l(reason));
      }
    },
    onLost: (l) => void listeners.push(l),
  };
}
