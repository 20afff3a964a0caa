import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { FASHION_MNIST_DIR, channelStats, openDataset, openIdx, openMnist, openSynthetic, classCount } from '../../src/data/index.js';
import { idxBytes, ramp, tempDir, writeFile } from './fixtures.js';

const mnistPackage = createRequire(import.meta.url)('mnist') as { get(i: number): number[]; length: number }[];

test('mnist: 10,000 digits split 5/6 : 1/6, classes interleaved, pixels as the package gives them', () => {
  const train = openMnist('train');
  const testSplit = openMnist('test');
  assert.is(train.count + testSplit.count, 10000);
  assert.is([train.height, train.width, train.channels].join(), '28,28,1');
  assert.equal(Array.from(train.labels!.slice(0, 12)), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
  // Image 13 of train is the second sample of digit 3; the first test image is digit 0's first after the cut.
  const want = mnistPackage[3].get(1).map((v) => Math.round(v * 255));
  assert.equal(Array.from(train.images.subarray(13 * 784, 14 * 784)), want);
  const cut0 = Math.floor((mnistPackage[0].length * 5) / 6);
  assert.equal(Array.from(testSplit.images.subarray(0, 784)), mnistPackage[0].get(cut0).map((v) => Math.round(v * 255)));
  for (let d = 0; d < 10; d++) {
    const inTest = testSplit.labels!.filter((l) => l === d).length;
    assert.is(inTest, mnistPackage[d].length - Math.floor((mnistPackage[d].length * 5) / 6), `digit ${d} test count`);
  }
});

test('fashion-mnist: the Debian files read as 60,000 + 10,000 images, 6,000 / 1,000 per class', () => {
  const train = openIdx(FASHION_MNIST_DIR, 'train', 'fashion-mnist');
  const testSplit = openIdx(FASHION_MNIST_DIR, 'test', 'fashion-mnist');
  assert.is(train.count, 60000);
  assert.is(testSplit.count, 10000);
  assert.is(train.images.length, 60000 * 784);
  const perClass = (labels: Int32Array) => Array.from({ length: 10 }, (_, k) => labels.filter((l) => l === k).length);
  assert.equal(perClass(train.labels!), new Array(10).fill(6000));
  assert.equal(perClass(testSplit.labels!), new Array(10).fill(1000));
  // The first training image is an ankle boot (class 9), as in the data set's own documentation.
  assert.is(train.labels![0], 9);
  // The normalisation constants every Fashion-MNIST recipe quotes: mean 0.2860, std 0.3530.
  const { mean, std } = channelStats(train);
  assert.ok(Math.abs(mean[0] - 0.286) < 5e-5 && Math.abs(std[0] - 0.353) < 5e-5, `mean ${mean[0]}, std ${std[0]}`);
});

test('channelStats: per channel, on a two-channel image worked by hand', () => {
  const ds = { images: Uint8Array.from([0, 255, 51, 51]), count: 1, channels: 2, height: 1, width: 2, name: 'hand' };
  const { mean, std } = channelStats(ds);
  assert.equal(mean, [0.5, 0.2]);
  assert.equal(std, [0.5, 0]);
});

test('idx: any path, gzipped or not, labels found beside the images; (N,H,W,C) becomes channel-first', () => {
  const dir = tempDir('idx');
  const pixels = ramp(3 * 2 * 2 * 3);
  const images = writeFile(join(dir, 'my-images-idx3-ubyte.gz'), idxBytes([3, 2, 2, 3], pixels), true);
  writeFile(join(dir, 'my-labels-idx1-ubyte.gz'), idxBytes([3], Uint8Array.from([2, 0, 1])), true);
  const ds = openIdx(images, 'train', 'mine');
  assert.is(ds.channels, 3);
  assert.equal(Array.from(ds.labels!), [2, 0, 1]);
  // Image 1, channel 2, pixel (1, 0): HWC index 12 + (1·2+0)·3 + 2.
  assert.is(ds.images[12 + 2 * 4 + 2], pixels[12 + 2 * 3 + 2]);
  const plain = writeFile(join(dir, 'plain'), idxBytes([2, 3, 3], ramp(18)));
  const unlabelled = openIdx(plain, 'train', 'plain');
  assert.is(unlabelled.labels, undefined);
  assert.equal(Array.from(unlabelled.images), Array.from(ramp(18)));
});

test('openDataset: limit, then resize to image_size', () => {
  const ds = openDataset({ source: 'mnist', split: 'train', limit: 30, image_size: 14, channels: 1 });
  assert.is(ds.count, 30);
  assert.is(ds.images.length, 30 * 14 * 14);
  assert.is(classCount(ds), 10);
  const full = openDataset({ source: 'mnist', split: 'train', limit: 30, image_size: 28, channels: 1 });
  // A 2× shrink keeps the mean brightness (within rounding).
  const mean = (a: Uint8Array) => a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(Math.abs(mean(ds.images) - mean(full.images)) < 1, `${mean(ds.images)} vs ${mean(full.images)}`);
});

test('synthetic: seeded, and its classes are separable by nearest class mean', () => {
  const a = openSynthetic({ count: 200, seed: 3 });
  const b = openSynthetic({ count: 200, seed: 3 });
  const c = openSynthetic({ count: 200, seed: 4 });
  assert.equal(a.images, b.images);
  assert.not.equal(a.images, c.images);
  const trainSet = openSynthetic({ count: 400, seed: 1, size: 16 });
  const testSet = openSynthetic({ count: 200, seed: 1, size: 16, split: 'test' });
  assert.not.equal(trainSet.images.subarray(0, 256), testSet.images.subarray(0, 256));
  const d = 256;
  const means = Array.from({ length: 10 }, () => new Float64Array(d));
  for (let n = 0; n < trainSet.count; n++) for (let j = 0; j < d; j++) means[trainSet.labels![n]][j] += trainSet.images[n * d + j] / 40;
  let right = 0;
  for (let n = 0; n < testSet.count; n++) {
    let best = -1;
    let bestDist = Infinity;
    means.forEach((m, k) => {
      let dist = 0;
      for (let j = 0; j < d; j++) dist += (testSet.images[n * d + j] - m[j]) ** 2;
      if (dist < bestDist) [best, bestDist] = [k, dist];
    });
    if (best === testSet.labels![n]) right++;
  }
  assert.ok(right / testSet.count > 0.6, `nearest-mean accuracy ${right / testSet.count} (chance 0.1)`);
});

test.run();
