// Seeded synthetic images with class structure a small convnet can learn: each class is a stripe
// pattern (its own orientation and frequency) plus a blob, and each image a randomly shifted,
// rescaled, noisy copy of its class — so views of one image resemble each other more than other classes.
import type { Dataset } from './dataset.js';
import { mixSeed, Rng } from './rng.js';

export interface SyntheticOptions {
  count: number;
  classes?: number;
  size?: number;
  channels?: number;
  seed?: number;
  /** Train and test draw different images of the same classes. */
  split?: 'train' | 'test';
}

interface Prototype {
  angle: number;
  frequency: number;
  blobX: number;
  blobY: number;
  tint: number[];
}

export function openSynthetic({ count, classes = 10, size = 28, channels = 1, seed = 0, split = 'train' }: SyntheticOptions): Dataset {
  const protoRng = new Rng(mixSeed(seed, 0));
  const prototypes: Prototype[] = Array.from({ length: classes }, (_, k) => ({
    angle: (Math.PI * k) / classes,
    frequency: 2 + 2 * protoRng.next(),
    blobX: size * (0.25 + 0.5 * protoRng.next()),
    blobY: size * (0.25 + 0.5 * protoRng.next()),
    tint: Array.from({ length: channels }, () => 0.5 + 0.5 * protoRng.next()),
  }));
  const rng = new Rng(mixSeed(seed, split === 'train' ? 1 : 2));
  const plane = size * size;
  const images = new Uint8Array(count * channels * plane);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const label = n % classes;
    const p = prototypes[label];
    const dx = rng.next() * 4 - 2;
    const dy = rng.next() * 4 - 2;
    const gain = 0.7 + 0.6 * rng.next();
    const phase = (rng.next() - 0.5) * Math.PI * 0.5;
    const [cos, sin] = [Math.cos(p.angle), Math.sin(p.angle)];
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const u = ((x - dx) * cos + (y - dy) * sin) / size;
        const stripes = 0.5 + 0.5 * Math.sin(2 * Math.PI * p.frequency * u + phase);
        const r2 = (x - dx - p.blobX) ** 2 + (y - dy - p.blobY) ** 2;
        const blob = Math.exp(-r2 / (2 * (size / 8) ** 2));
        const value = gain * (0.6 * stripes + 0.6 * blob);
        for (let c = 0; c < channels; c++) {
          const noisy = 255 * value * p.tint[c] + 20 * rng.normal();
          images[(n * channels + c) * plane + y * size + x] = Math.min(255, Math.max(0, Math.round(noisy)));
        }
      }
    }
    labels[n] = label;
  }
  return { images, labels, count, channels, height: size, width: size, name: `synthetic (${split}, seed ${seed})` };
}
