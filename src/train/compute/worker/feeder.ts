// The host's side of the batch stream: answers a compute page's seek/want requests from local
// BatchSources (the Node BatchLoader in Electron, generated data in tests), one batch per credit.
import type { Batch } from '../../../images/batch-source.js';
import { transferablesOf, type ComputeBatch, type FromCompute, type ToCompute } from '../protocol.js';

/** A batch whose pixels may be raw uint8 (sent as is with its lighting shifts, normalised by the page) or normalised float32. */
export type FeedBatch = Omit<Batch, 'x'> & { x: Float32Array | Uint8Array; shifts?: Float32Array | null };

/** What the feeder reads from: a BatchSource, or one yielding uint8 batches. */
export interface FeedSource {
  next(): Promise<FeedBatch | null>;
  seek?(epoch: number, startBatch?: number): void;
}

interface StreamState {
  source: FeedSource;
  /** Ticket of the page's latest seek, and of the one the source is positioned for. */
  wanted: number;
  active: number;
  credits: number;
  ended: boolean;
  chain: Promise<void>;
}

/** Feeds `train`/`val` to a page through `post`; returns the handler for the page's messages (others are ignored). */
export function createBatchFeeder(
  sources: { train: FeedSource; val: FeedSource | null },
  post: (m: ToCompute, transfer: ArrayBuffer[]) => void,
  onError: (err: Error) => void,
): (m: FromCompute) => void {
  const streams: Record<'train' | 'val', StreamState | null> = {
    train: { source: sources.train, wanted: 0, active: -1, credits: 0, ended: false, chain: Promise.resolve() },
    val: sources.val ? { source: sources.val, wanted: 0, active: -1, credits: 0, ended: false, chain: Promise.resolve() } : null,
  };
  // One operation at a time per stream, so a seek never races a next() in flight.
  const enqueue = (s: StreamState, op: () => Promise<void>): void => {
    s.chain = s.chain.then(op).catch((err: unknown) => onError(err instanceof Error ? err : new Error(String(err))));
  };
  const pump = (name: 'train' | 'val', s: StreamState): void =>
    enqueue(s, async () => {
      while (s.credits > 0 && !s.ended && s.active === s.wanted) {
        const batch = await s.source.next();
        if (s.active !== s.wanted) {
          return; // a seek came in while reading: this batch belongs to the old position
        }
        if (!batch) {
          s.ended = true;
          post({ type: 'end-of-epoch', stream: name, ticket: s.active }, []);
          return;
        }
        s.credits -= 1;
        const m = toMessage(name, s.active, batch);
        post(m, transferablesOf(m));
      }
    });
  return (m) => {
    if (m.type !== 'seek' && m.type !== 'want') {
      return;
    }
    const s = streams[m.stream];
    if (!s) {
      if (m.type === 'seek') {
        post({ type: 'end-of-epoch', stream: m.stream, ticket: m.ticket }, []);
      }
      return;
    }
    if (m.type === 'seek') {
      s.wanted = m.ticket;
      enqueue(s, async () => {
        if (s.wanted !== m.ticket) {
          return;
        }
        s.source.seek?.(m.epoch, m.startBatch);
        s.active = m.ticket;
        s.credits = 0;
        s.ended = false;
      });
    } else if (m.ticket === s.wanted) {
      enqueue(s, async () => {
        if (s.active === m.ticket) {
          s.credits += m.count;
        }
      });
      pump(m.stream, s);
    }
  };
}

/** Copies a batch into buffers of its own (a loader's views may share one), ready to transfer. */
function toMessage(stream: 'train' | 'val', ticket: number, b: FeedBatch): { type: 'batch' } & ComputeBatch {
  const own = <T extends Float32Array | Uint8Array | Int32Array>(a: T): ArrayBuffer =>
    a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer ? a.buffer : (a.slice().buffer as ArrayBuffer);
  return {
    type: 'batch',
    stream,
    ticket,
    pixels: own(b.x),
    dtype: b.x instanceof Uint8Array ? 'uint8' : 'float32',
    ...(b.x instanceof Uint8Array && b.shifts ? { shifts: own(b.shifts) } : {}),
    shape: b.shape,
    labels: own(b.labels),
    ids: own(b.ids),
    ...(b.views ? { views: b.views } : {}),
    epoch: b.epoch ?? 0,
    index: b.index ?? 0,
  };
}
