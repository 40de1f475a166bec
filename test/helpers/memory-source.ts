import type { Batch, BatchSource } from '../../src/images/batch-source.js';

/** A BatchSource over float images already in memory (tests, small evaluations, the compute window). */
export class MemoryBatchSource implements BatchSource {
  readonly batchesPerEpoch: number;
  private cursor = 0;
  private order: number[];
  private epoch = 0;

  /** `x` holds `labels.length` images of size×size×3, NHWC. */
  constructor(
    private readonly x: Float32Array,
    private readonly labels: Int32Array,
    private readonly size: number,
    private readonly batchSize: number,
    private readonly shuffleSeed: number | null = null,
  ) {
    this.batchesPerEpoch = Math.ceil(labels.length / batchSize);
    this.order = this.orderFor(0);
  }

  private orderFor(epoch: number): number[] {
    const order = Array.from({ length: this.labels.length }, (_, i) => i);
    if (this.shuffleSeed !== null) {
      let s = (this.shuffleSeed * 2654435761 + epoch * 40503 + 1) >>> 0;
      for (let i = order.length - 1; i > 0; i--) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        const j = s % (i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
    }
    return order;
  }

  seek(epoch: number, startBatch = 0): void {
    this.epoch = epoch;
    this.order = this.orderFor(epoch);
    this.cursor = startBatch * this.batchSize;
  }

  async next(): Promise<Batch | null> {
    if (this.cursor >= this.labels.length) {
      return null;
    }
    const idx = this.order.slice(this.cursor, this.cursor + this.batchSize);
    const index = this.cursor / this.batchSize;
    this.cursor += idx.length;
    const per = this.size * this.size * 3;
    const x = new Float32Array(idx.length * per);
    idx.forEach((src, i) => x.set(this.x.subarray(src * per, (src + 1) * per), i * per));
    return {
      x,
      shape: [idx.length, this.size, this.size, 3],
      labels: Int32Array.from(idx, (i) => this.labels[i]!),
      ids: Int32Array.from(idx),
      epoch: this.epoch,
      index,
    };
  }

  async close(): Promise<void> {}
}
