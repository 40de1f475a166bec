import type { AppInfo } from '../api/app.js';
import type { EventBus } from '../api/events-bus.js';
import type { MediaResolver } from '../api/media.js';
import type { Library } from './open.js';

/** Which program hosts the engine; shown in `info` and used to pick what the UI offers. */
export type HostKind = AppInfo['host'];

/**
 * What every feature's handlers are given by the studio (src/studio.ts) that wires them: the open library,
 * the event bus, the host, and the lists the features add their closers and media routes to.
 */
export interface StudioContext {
  readonly library: Library;
  readonly events: EventBus;
  readonly host: HostKind;
  /** Tasks to await when the studio closes (workers, servers). */
  readonly closers: Array<() => Promise<void> | void>;
  /** Routes under /media/ that every host serves (images and thumbnails by id). */
  readonly media: MediaResolver[];
}
