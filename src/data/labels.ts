// The labelled data of SimCLR v2's supervised phases: a validation split held out of the training
// split (every choice a run makes — the best epoch — is made on it, never on the test split) and a
// class-balanced, seeded fraction of the rest's labels (1% and 10% as in the paper).
import { DataError, imageBytes, type Dataset } from './dataset.js';
import { mixSeed, permutation, Rng } from './rng.js';
import { perClass, valCount } from '../spec/label-counts.js';

export { MAX_VAL } from '../spec/label-counts.js';

/** Seed streams, so the validation split and the labelled subset are independent draws of one seed. */
const VAL_STREAM = 0x7a1;
const LABEL_STREAM = 0x1abe;

export class LabelError extends Error {
  readonly code = 'E0309';
  constructor(message: string) {
    super(message);
    this.name = 'LabelError';
  }
}

/** The images (and labels) at `indices`, in that order, sharing no memory with `ds`. */
export function pick(ds: Dataset, indices: ArrayLike<number>, name = ds.name): Dataset {
  const size = imageBytes(ds);
  const images = new Uint8Array(indices.length * size);
  const labels = ds.labels ? new Int32Array(indices.length) : undefined;
  for (let k = 0; k < indices.length; k++) {
    images.set(ds.images.subarray(indices[k] * size, (indices[k] + 1) * size), k * size);
    if (labels) labels[k] = ds.labels![indices[k]];
  }
  const { heldOut: _, ...rest } = ds;
  return { ...rest, images, labels, count: indices.length, name };
}

/** A seeded, class-blind hold-out of the training split: { train, val }. */
export function splitValidation(ds: Dataset, fraction: number, seed: number): { train: Dataset; val: Dataset } {
  const order = permutation(ds.count, new Rng(mixSeed(seed, VAL_STREAM)));
  const n = valCount(ds.count, fraction);
  const sorted = (a: Uint32Array) => Uint32Array.from(a).sort();
  return { train: pick(ds, sorted(order.subarray(n)), ds.name), val: pick(ds, sorted(order.subarray(0, n)), `${ds.name} (validation)`) };
}

/**
 * The same number of images from every class, ⌊fraction·count / classes⌋ each (fewer where a
 * class holds fewer), drawn by the seed: a LabelError when that is not at least one per class.
 */
export function labelledSubset(ds: Dataset, fraction: number, classes: number, seed: number): Dataset {
  if (!ds.labels) throw new DataError(ds.name, 'has no labels: fine-tuning needs them');
  const each = perClass(ds.count, fraction, classes);
  if (each < 1) {
    throw new LabelError(`finetune.label_fraction ${fraction} of ${ds.count} training images gives fewer than one labelled image for each of ${classes} classes; raise it to at least ${(classes / ds.count).toPrecision(2)}`);
  }
  const order = permutation(ds.count, new Rng(mixSeed(seed, LABEL_STREAM)));
  const taken = new Array<number>(classes).fill(0);
  const chosen: number[] = [];
  for (const i of order) {
    const label = ds.labels[i];
    if (taken[label] < each) {
      taken[label]++;
      chosen.push(i);
    }
  }
  chosen.sort((a, b) => a - b);
  return pick(ds, chosen, `${ds.name} (${chosen.length} labelled)`);
}
