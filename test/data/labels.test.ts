// The labelled data of the v2 phases: a seeded validation hold-out (capped at 5,000) disjoint from
// what trains, and a class-balanced seeded label subset that refuses a fraction under one a class.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Dataset } from '../../src/data/dataset.js';
import { labelledSubset, LabelError, MAX_VAL, splitValidation } from '../../src/data/labels.js';

/** `count` 1×1 images whose pixel is the image's index mod 251, labels skewed towards class 0. */
function fake(count: number, classes: number): Dataset {
  const labels = Int32Array.from({ length: count }, (_, i) => (i % 3 === 0 ? 0 : i % classes));
  return { images: Uint8Array.from({ length: count }, (_, i) => i % 251), labels, count, channels: 1, height: 1, width: 1, name: 'fake' };
}

const counts = (ds: Dataset, classes: number) => {
  const out = new Array<number>(classes).fill(0);
  for (const l of ds.labels!) out[l]++;
  return out;
};

test('validation: seeded, disjoint from the training images, 10% capped at 5,000', () => {
  const ds = fake(1000, 10);
  const a = splitValidation(ds, 0.1, 7);
  assert.is(a.val.count, 100);
  assert.is(a.train.count, 900);
  assert.equal(splitValidation(ds, 0.1, 7).val.images, a.val.images, 'same seed, same split');
  assert.not.equal(splitValidation(ds, 0.1, 8).val.images, a.val.images, 'another seed, another split');
  const total = new Uint32Array(251);
  for (const p of [...a.train.images, ...a.val.images]) total[p]++;
  const expected = new Uint32Array(251);
  for (const p of ds.images) expected[p]++;
  assert.equal([...total], [...expected], 'the two sides partition the split');
  assert.is(splitValidation(fake(80000, 10), 0.1, 1).val.count, MAX_VAL);
});

test('label subset: the same count of every class although the classes are skewed, seeded', () => {
  const ds = fake(3000, 10);
  const sub = labelledSubset(ds, 0.1, 10, 3);
  assert.equal(counts(sub, 10), new Array(10).fill(30));
  assert.equal(labelledSubset(ds, 0.1, 10, 3).images, sub.images);
  assert.not.equal(labelledSubset(ds, 0.1, 10, 4).images, sub.images);
});

test('label subset: under one image a class is a coded error naming the least fraction', () => {
  try {
    labelledSubset(fake(500, 10), 0.01, 10, 1);
    assert.unreachable('5 labels for 10 classes');
  } catch (e) {
    assert.instance(e, LabelError);
    assert.is((e as LabelError).code, 'E0309');
    assert.match((e as Error).message, 'at least 0.020');
  }
});

test.run();
