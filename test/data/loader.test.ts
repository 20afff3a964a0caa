import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BatchLoader, openSynthetic } from '../../src/data/index.js';

const ds = openSynthetic({ count: 103, size: 4, seed: 2 });

async function take(loader: BatchLoader, n: number): Promise<number[][]> {
  const out: number[][] = [];
  for (let i = 0; i < n; i++) out.push(Array.from((await loader.next()).indices));
  return out;
}

test('same seed, same order; another seed, another order', async () => {
  const a = await take(new BatchLoader(ds, { batchSize: 10, seed: 7 }), 25);
  const b = await take(new BatchLoader(ds, { batchSize: 10, seed: 7 }), 25);
  const c = await take(new BatchLoader(ds, { batchSize: 10, seed: 8 }), 25);
  assert.equal(a, b);
  assert.not.equal(a, c);
});

test('each epoch visits distinct images, drops the partial batch, and reshuffles', async () => {
  const loader = new BatchLoader(ds, { batchSize: 10, seed: 1 });
  assert.is(loader.stepsPerEpoch, 10);
  const batches = await take(loader, 20);
  const epoch0 = batches.slice(0, 10).flat();
  const epoch1 = batches.slice(10).flat();
  assert.is(new Set(epoch0).size, 100);
  assert.is(new Set(epoch1).size, 100);
  assert.ok(epoch0.every((i) => i < 103));
  assert.not.equal(epoch0, epoch1);
});

test('batch contents are the dataset images and labels of its indices; f32 pixels are bytes / 255', async () => {
  const loader = new BatchLoader(ds, { batchSize: 4, seed: 3, pixels: 'f32' });
  const batch = await loader.next();
  assert.instance(batch.images, Float32Array);
  batch.indices.forEach((index, i) => {
    assert.is(batch.labels![i], ds.labels![index]);
    for (let j = 0; j < 16; j++) assert.ok(Math.abs(batch.images[i * 16 + j] - ds.images[index * 16 + j] / 255) < 1e-7);
  });
});

test('a loader started at step s (resume) serves what an uninterrupted one serves from s', async () => {
  const whole = await take(new BatchLoader(ds, { batchSize: 10, seed: 5 }), 27);
  const resumed = await take(new BatchLoader(ds, { batchSize: 10, seed: 5, startStep: 13 }), 14);
  assert.equal(resumed, whole.slice(13));
  const seeking = new BatchLoader(ds, { batchSize: 10, seed: 5 });
  await take(seeking, 3);
  seeking.seek(22);
  assert.equal(await take(seeking, 5), whole.slice(22));
});

test('the next batch is gathered while the caller awaits other work', async () => {
  const loader = new BatchLoader(ds, { batchSize: 10, seed: 0 });
  assert.is(loader.prefetched, undefined);
  await loader.next();
  assert.is(loader.prefetched, undefined, 'nothing is gathered before the caller yields');
  await new Promise((resolve) => setTimeout(resolve, 5)); // stands for waiting on the device
  assert.is(loader.prefetched, 1);
  const second = await loader.next();
  assert.is(second.step, 1);
  assert.is(second.epoch, 0);
});

test.run();
