// Shuffled, seeded batches. Epoch e's order is a permutation drawn from (seed, e) alone, so the
// batch at any global step is known without replaying the ones before it: resuming is seeking.
// While the caller awaits the device, the next batch is gathered in the event loop's idle time.
import { DataError, imageBytes, type Dataset } from './dataset.js';
import { mixSeed, permutation, Rng } from './rng.js';

export interface Batch {
  /** batch·C·H·W pixels: bytes, or floats in [0, 1] with `pixels: 'f32'`. */
  images: Uint8Array | Float32Array;
  labels?: Int32Array;
  /** Which images of the dataset, in batch order. */
  indices: Uint32Array;
  /** Global step this batch belongs to (0-based), and its epoch. */
  step: number;
  epoch: number;
}

export interface LoaderOptions {
  batchSize: number;
  seed: number;
  pixels?: 'u8' | 'f32';
  /** First global step to serve (resuming). */
  startStep?: number;
}

export class BatchLoader {
  readonly stepsPerEpoch: number;
  private readonly batchSize: number;
  private readonly seed: number;
  private readonly pixels: 'u8' | 'f32';
  private current: number;
  private epochOrder: { epoch: number; order: Uint32Array } | undefined;
  private ahead: { step: number; batch: Promise<Batch> } | undefined;
  private ready: number | undefined;

  constructor(
    readonly dataset: Dataset,
    { batchSize, seed, pixels = 'u8', startStep = 0 }: LoaderOptions,
  ) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size must be a positive integer, not ${batchSize}`);
    // SimCLR's loss depends on the batch size (2N−2 negatives), so every batch is full: the last,
    // partial one of an epoch is dropped, as drop_last does.
    this.stepsPerEpoch = Math.floor(dataset.count / batchSize);
    if (this.stepsPerEpoch === 0) {
      throw new DataError(dataset.name, `has ${dataset.count} images, fewer than one batch of ${batchSize}; lower train.batch_size or add images`, ['train', 'batch_size']);
    }
    this.batchSize = batchSize;
    this.seed = seed;
    this.pixels = pixels;
    this.current = startStep;
  }

  /** The global step the next call to `next` serves. */
  get step(): number {
    return this.current;
  }

  /** The step whose batch is already gathered and waiting, if any. */
  get prefetched(): number | undefined {
    return this.ready;
  }

  /** The visiting order of epoch `epoch`. */
  order(epoch: number): Uint32Array {
    if (this.epochOrder?.epoch !== epoch) {
      this.epochOrder = { epoch, order: permutation(this.dataset.count, new Rng(mixSeed(this.seed, epoch))) };
    }
    return this.epochOrder.order;
  }

  /** The batch of any global step, gathered now. */
  batchAt(step: number): Batch {
    const epoch = Math.floor(step / this.stepsPerEpoch);
    const first = (step - epoch * this.stepsPerEpoch) * this.batchSize;
    const indices = this.order(epoch).slice(first, first + this.batchSize);
    const ds = this.dataset;
    const size = imageBytes(ds);
    const images = this.pixels === 'f32' ? new Float32Array(this.batchSize * size) : new Uint8Array(this.batchSize * size);
    const labels = ds.labels ? new Int32Array(this.batchSize) : undefined;
    indices.forEach((index, i) => {
      const src = ds.images.subarray(index * size, (index + 1) * size);
      if (images instanceof Uint8Array) images.set(src, i * size);
      else for (let j = 0; j < size; j++) images[i * size + j] = src[j] / 255;
      if (labels && ds.labels) labels[i] = ds.labels[index];
    });
    return { images, labels, indices, step, epoch };
  }

  /** The next batch; the one after it is gathered as soon as the caller yields to the event loop. */
  async next(): Promise<Batch> {
    const step = this.current;
    const batch = this.ahead?.step === step ? await this.ahead.batch : this.batchAt(step);
    this.current = step + 1;
    this.prefetch(step + 1);
    return batch;
  }

  /** Moves to a global step (resuming); the next `next` serves it. */
  seek(step: number): void {
    this.current = step;
    this.ahead = undefined;
    this.ready = undefined;
  }

  private prefetch(step: number): void {
    this.ready = undefined;
    this.ahead = {
      step,
      batch: new Promise((resolve) =>
        setImmediate(() => {
          const batch = this.batchAt(step);
          if (this.ahead?.step === step) this.ready = step;
          resolve(batch);
        }),
      ),
    };
  }
}
