import type { Output } from '../../../src/api/contract';
import { call, transportKind } from './api';

export type View = 'library' | 'train' | 'runs' | 'classify';

/** App-wide state: the current view and what the engine said about itself. */
class AppState {
  view = $state<View>('library');
  info = $state<Output<'app.info'> | null>(null);
  error = $state<string | null>(null);
  readonly transport = transportKind;

  /** Asks the engine for version, library and backend (the status bar's real round trip). */
  async refreshInfo(): Promise<void> {
    try {
      this.info = await call('app.info');
      this.error = null;
    } catch (err) {
      this.error = (err as Error).message;
    }
  }
}

export const app = new AppState();
